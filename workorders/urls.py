from rest_framework.routers import SimpleRouter

from workorders.api.views import WorkOrderViewSet

router = SimpleRouter()
router.register("workorders", WorkOrderViewSet, basename="workorder")

urlpatterns = router.urls
