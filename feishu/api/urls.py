from rest_framework.routers import SimpleRouter

from feishu.api.views import FeishuAppViewSet

router = SimpleRouter()
router.register("apps", FeishuAppViewSet, basename="feishu-app")

urlpatterns = router.urls
