from rest_framework.routers import SimpleRouter

from knowledge.api.views import KnowledgeEntryViewSet, KnowledgeImportViewSet

router = SimpleRouter()
router.register("knowledge/imports", KnowledgeImportViewSet, basename="knowledge-import")
router.register("knowledge", KnowledgeEntryViewSet, basename="knowledge")

urlpatterns = router.urls
