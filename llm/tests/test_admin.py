"""The LLM call log in the admin: read-only, tenant-scoped, with a usage summary."""

from decimal import Decimal

import pytest
from django.test import Client

from helpdesk.tenancy import tenant_scope
from llm.models import LLMCall
from llm.tests.test_usage import DAY1, make_call

CALLS = "/admin/llm/llmcall/"


@pytest.fixture
def rows(tenant_a, tenant_b) -> dict[str, LLMCall]:
    with tenant_scope(tenant_a):
        row_a = make_call(model="model-of-a", cost=Decimal("0.123400"))
        make_call(model="model-of-a", outcome="error", error_type="rate_limited")
    with tenant_scope(tenant_b):
        row_b = make_call(model="model-of-b")
    return {"a": row_a, "b": row_b}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestTenantStaff:
    def test_changelist_shows_own_calls_with_a_summary(self, viewer_a, rows):
        response = client_for(viewer_a).get(CALLS)

        assert response.status_code == 200
        page = response.content.decode()
        assert "model-of-a" in page and "model-of-b" not in page
        assert 'id="llm-usage-summary"' in page
        summary = response.context["usage_summary"]
        assert summary["totals"]["calls"] == 2
        assert summary["totals"]["errors"] == 1
        assert summary["totals"]["cost"] == Decimal("0.133400")
        assert [row["key"] for row in summary["by_model"]] == ["model-of-a"]

    def test_summary_follows_filters_and_date_hierarchy(self, agent_a, rows):
        client = client_for(agent_a)

        errors = client.get(CALLS, {"outcome__exact": "error"}).context["usage_summary"]
        by_day = client.get(
            CALLS,
            {
                "created_at__year": DAY1.year,
                "created_at__month": DAY1.month,
                "created_at__day": DAY1.day,
            },
        )
        assert errors["totals"]["calls"] == 1
        assert by_day.status_code == 200
        assert by_day.context["usage_summary"]["totals"]["calls"] == 2

    def test_calls_are_read_only(self, admin_a, rows):
        client = client_for(admin_a)

        assert client.get(f"{CALLS}add/").status_code == 403
        detail = client.get(f"{CALLS}{rows['a'].pk}/change/")
        assert detail.status_code == 200
        assert b'name="_save"' not in detail.content
        assert client.get(f"{CALLS}{rows['a'].pk}/delete/").status_code == 403

    def test_other_tenants_call_is_not_reachable(self, admin_a, rows):
        response = client_for(admin_a).get(f"{CALLS}{rows['b'].pk}/change/")

        assert response.status_code in (302, 404)
        assert b"model-of-b" not in response.content


@pytest.mark.django_db
def test_superuser_sees_every_tenant(superuser, rows):
    response = client_for(superuser).get(CALLS)

    page = response.content.decode()
    assert "model-of-a" in page and "model-of-b" in page
    assert "column-tenant" in page
    assert response.context["usage_summary"]["totals"]["calls"] == 3
