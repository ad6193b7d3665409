"""AI suggestions in the admin's work-order page: generate (VIN, module and timeline in the
prompt), history, resolution with similarity, approval into the knowledge base, rejection;
two tenants and each role."""

from collections.abc import Iterator

import pytest
from django.test import Client

from dialogue.models import WorkOrderSuggestion
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from knowledge.models import KnowledgeEntry
from llmstub import StubLLMServer
from workorders.services import workorder_comment

pytestmark = pytest.mark.django_db
PANEL = {"HTTP_X_HELPDESK_PANEL": "1"}


@pytest.fixture(scope="module")
def _stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(tokens=10) as server:
        yield server


@pytest.fixture
def stub(_stub) -> StubLLMServer:
    _stub.reset()
    get_config().update({"llm.base_url": _stub.base_url, "llm.model": "stub", "llm.max_retries": 0})
    return _stub


@pytest.fixture
def order(make_workorder, tenant_a, agent_a):
    order = make_workorder(
        tenant_a,
        title="OTA 升级失败",
        description="升级到 70% 失败。",
        vin="lsvaa4182e2123456",
        module="车机",
    )
    with tenant_scope(tenant_a):
        workorder_comment(work_order=order, actor=agent_a, body="已让客户重启车机。")
    return order


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(order, suffix="suggestions/") -> str:
    return f"/admin/workorders/workorder/{order.pk}/{suffix}"


def test_generate_resolve_and_approve_without_leaving_the_page(stub, order, agent_a, tenant_a):
    client = client_for(agent_a)
    page = client.get(url(order, "change/")).content.decode()
    assert 'id="wo-suggestions"' in page and "workorders/suggestions.js" in page
    panel = client.post(url(order), {"action": "generate"}, **PANEL)
    assert panel.status_code == 200
    html = panel.content.decode()
    assert html.lstrip().startswith('<section id="wo-suggestions"') and "Stub answer" in html
    prompt = stub.requests()[-1]["messages"][1]["content"]
    assert "VIN：LSVAA4182E2123456" in prompt and "模块：车机" in prompt
    assert "已让客户重启车机" in prompt
    with tenant_scope(tenant_a):
        suggestion = WorkOrderSuggestion.objects.get(work_order=order)
        order.refresh_from_db()
        assert "VIN" not in order.description  # the work order itself is unchanged
    recorded = client.post(
        url(order),
        {
            "action": "resolution",
            "suggestion": suggestion.pk,
            "human_resolution": "远程推送升级包后重新升级成功。",
        },
        **PANEL,
    ).content.decode()
    assert "远程推送升级包" in recorded and "%" in recorded
    approved = client.post(url(order), {"action": "approve", "suggestion": suggestion.pk}, **PANEL)
    assert "wo-record" not in approved.content.decode()
    with tenant_scope(tenant_a):
        suggestion.refresh_from_db()
        assert suggestion.status == "approved" and 0 <= suggestion.similarity <= 1
        entry = KnowledgeEntry.objects.get(pk=suggestion.knowledge_entry_id)
        assert entry.verified and "远程推送升级包" in entry.answer
    again = client.post(url(order), {"action": "reject", "suggestion": suggestion.pk}, **PANEL)
    assert "wo-warning" in again.content.decode()


def test_without_script_the_form_redirects_back(stub, order, agent_a, tenant_a):
    response = client_for(agent_a).post(url(order), {"action": "generate"})
    assert response.status_code == 302 and response["Location"].endswith(f"/{order.pk}/change/")
    with tenant_scope(tenant_a):
        suggestion = WorkOrderSuggestion.objects.get(work_order=order)
    reject = client_for(agent_a).post(url(order), {"action": "reject", "suggestion": suggestion.pk})
    assert reject.status_code == 302
    with tenant_scope(tenant_a):
        suggestion.refresh_from_db()
        assert suggestion.status == "rejected"


def test_llm_failure_is_shown_and_nothing_saved(stub, order, agent_a, tenant_a):
    stub.queue_faults("500")
    html = client_for(agent_a).post(url(order), {"action": "generate"}, **PANEL).content.decode()
    assert "wo-warning" in html
    with tenant_scope(tenant_a):
        assert not WorkOrderSuggestion.objects.exists()


def test_bad_input_is_a_clear_answer(stub, order, agent_a):
    client = client_for(agent_a)
    assert client.post(url(order), {"action": "resolution", "suggestion": "x"}).status_code == 404
    assert client.get(url(order)).status_code == 405
    html = client.post(url(order), {"action": "dance"}, **PANEL)
    assert html.status_code == 404


def test_other_tenants_roles_and_superusers(stub, order, agent_b, viewer_a, superuser, agent_a):
    assert client_for(agent_b).post(url(order), {"action": "generate"}).status_code == 404
    assert client_for(agent_b).get(url(order, "change/")).status_code in (302, 404)
    assert client_for(viewer_a).post(url(order), {"action": "generate"}).status_code == 403
    viewer_page = client_for(viewer_a).get(url(order, "change/")).content.decode()
    assert 'id="wo-suggestions"' in viewer_page and 'value="generate"' not in viewer_page
    assert client_for(superuser).post(url(order), {"action": "generate"}).status_code == 403
    root_page = client_for(superuser).get(url(order, "change/"))
    assert root_page.status_code == 200 and 'value="generate"' not in root_page.content.decode()
