"""Work-order fixtures: a factory that creates through the service, in a tenant's scope."""

from collections.abc import Callable

import pytest

from helpdesk.tenancy import tenant_scope
from workorders.models import WorkOrder
from workorders.services import workorder_create


@pytest.fixture
def make_workorder(db) -> Callable[..., WorkOrder]:
    def make(tenant, **fields) -> WorkOrder:
        fields.setdefault("title", "刹车异响")
        with tenant_scope(tenant):
            return workorder_create(**fields)

    return make
