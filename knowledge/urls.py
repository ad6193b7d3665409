from rest_framework.routers import SimpleRouter

from knowledge.api.proposals import WordingProposalViewSet
from knowledge.api.views import KnowledgeEntryViewSet, KnowledgeImportViewSet

router = SimpleRouter()
router.register("knowledge/imports", KnowledgeImportViewSet, basename="knowledge-import")
router.register("knowledge/proposals", WordingProposalViewSet, basename="knowledge-proposal")
router.register("knowledge", KnowledgeEntryViewSet, basename="knowledge")

urlpatterns = router.urls
