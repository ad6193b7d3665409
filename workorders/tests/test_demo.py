import pytest

from helpdesk.tenancy import tenant_scope
from workorders import demo
from workorders.models import WorkOrder


@pytest.mark.django_db
def test_seed_is_idempotent_and_walks_the_status_model(tenant_a, admin_a):
    with tenant_scope(tenant_a):
        assert demo.seed(tenant_a).startswith(f"{len(demo.DEMO)} ")
        assert demo.seed(tenant_a).startswith("0 ")
        assert WorkOrder.objects.count() == len(demo.DEMO)
        closed = WorkOrder.objects.get(requester_external_id="demo-wo-04")
        assert (closed.status, closed.satisfaction, closed.assignee) == ("closed", 4, admin_a)
        assert closed.events.filter(kind="status_changed").count() == 3
