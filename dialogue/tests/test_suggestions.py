"""AI suggestions for work orders: generate, record the resolution, approve into knowledge."""

import pytest

from dialogue.models import SuggestionStatus, WorkOrderSuggestion
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from llm.models import LLMCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def work_order(scope_a, agent_a):
    from workorders.services import workorder_comment, workorder_create

    order = workorder_create(
        title="车机 OTA 升级失败",
        description="客户反馈车机 OTA 升级到 70% 时失败，多次重试无效。VIN LSVAA4182E2123456。",
        actor=agent_a,
    )
    workorder_comment(work_order=order, actor=agent_a, body="已让客户重启车机后重试，仍然失败。")
    return order


def url(work_order) -> str:
    return f"/api/v1/workorders/{work_order.pk}/suggestion/"


def test_generate_with_the_llm(tenant_a, llm, work_order, make_entry, client_a, client_b):
    entry = make_entry("OTA 升级失败怎么办？", "确认车辆 P 挡、电量高于 50%、网络良好后重试。")
    response = client_a.post(url(work_order))
    assert response.status_code == 201, response.content
    assert_matches_schema(response, "post", "/api/v1/workorders/{id}/suggestion/")
    data = response.json()["data"]
    assert data["content"].startswith("Stub answer") and data["citations"] == [entry.pk]
    prompt = llm.requests()[-1]["messages"][1]["content"]
    assert "VIN LSVAA4182E2123456" in prompt and "已让客户重启车机" in prompt
    with tenant_scope(tenant_a):
        assert LLMCall.objects.filter(purpose="suggestion").count() == 1
        assert work_order.events.filter(kind="suggestion_added").exists()
    assert client_b.post(url(work_order)).status_code == 404
    listed = client_a.get(url(work_order))
    assert_matches_schema(listed, "get", "/api/v1/workorders/{id}/suggestion/")
    assert [s["id"] for s in listed.json()["data"]] == [data["id"]]
    assert client_b.get(url(work_order)).status_code == 404


def test_llm_failure_is_503_and_nothing_saved(tenant_a, llm, work_order, client_a):
    llm.queue_faults("500")
    response = client_a.post(url(work_order))
    assert response.status_code == 503
    assert_matches_schema(response, "post", "/api/v1/workorders/{id}/suggestion/")
    with tenant_scope(tenant_a):
        assert WorkOrderSuggestion.objects.count() == 0


def test_knowledge_only_suggestion(tenant_a, work_order, make_entry, client_a):
    assert client_a.post(url(work_order)).status_code == 503
    make_entry("OTA 升级失败怎么办？", "确认车辆 P 挡、电量高于 50%、网络良好后重试。")
    response = client_a.post(url(work_order))
    assert response.status_code == 201
    assert response.json()["data"]["kb_only"] is True


def test_resolution_similarity_and_approval(tenant_a, llm, work_order, client_a, client_b):
    suggestion_id = client_a.post(url(work_order)).json()["data"]["id"]
    base = f"/api/v1/workorder-suggestions/{suggestion_id}/"
    bad = client_a.post(f"{base}resolution/", {}, format="json")
    assert bad.status_code == 400
    assert_matches_schema(bad, "post", "/api/v1/workorder-suggestions/{id}/resolution/")
    recorded = client_a.post(
        f"{base}resolution/", {"human_resolution": "远程推送升级包后，客户重新升级成功。"}
    )
    assert recorded.status_code == 200
    assert_matches_schema(recorded, "post", "/api/v1/workorder-suggestions/{id}/resolution/")
    assert 0 <= recorded.json()["data"]["similarity"] <= 1
    assert client_b.post(f"{base}approve/").status_code == 404
    approved = client_a.post(f"{base}approve/")
    assert approved.status_code == 200
    assert_matches_schema(approved, "post", "/api/v1/workorder-suggestions/{id}/approve/")
    data = approved.json()["data"]
    assert data["status"] == SuggestionStatus.APPROVED and data["knowledge_entry"]
    with tenant_scope(tenant_a):
        from knowledge.models import KnowledgeEntry

        entry = KnowledgeEntry.objects.get(pk=data["knowledge_entry"])
        assert "远程推送升级包" in entry.answer
    again = client_a.post(f"{base}reject/")
    assert again.status_code == 409
    assert_matches_schema(again, "post", "/api/v1/workorder-suggestions/{id}/reject/")


def test_viewer_cannot_generate(viewer_a, work_order):
    from conftest import api_client_for

    assert api_client_for(viewer_a).post(url(work_order)).status_code == 403
