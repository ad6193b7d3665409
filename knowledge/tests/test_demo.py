from helpdesk.tenancy import tenant_scope
from knowledge import demo
from knowledge.models import KnowledgeEntry
from knowledge.search import search


def test_seed_is_idempotent(tenant_a):
    with tenant_scope(tenant_a):
        assert demo.seed(tenant_a) == "85 knowledge entries"
        assert demo.seed(tenant_a) == "0 knowledge entries"
        assert KnowledgeEntry.objects.count() == 85
        assert KnowledgeEntry.objects.filter(verified=False).exists()
        assert search("蓝牙连不上")[0].score > 0.40
