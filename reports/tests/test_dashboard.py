"""The dashboard in the admin: the front page for staff of each role, superusers choosing a
tenant, the JSON refresh, the downloads and the one-click knowledge draft."""

from __future__ import annotations

import pytest
from django.test import Client

from dialogue.models import ChatSession, Message
from helpdesk.tenancy import tenant_scope
from reports.drafting import staff_replies
from reports.tests.test_numbers import history  # noqa: F401 (fixture)
from workorders.models import WorkOrder
from workorders.services import workorder_comment, workorder_create

pytestmark = pytest.mark.django_db

INDEX = "/admin/"
DATA = "/admin/dashboard/data/"
EXPORT = "/admin/dashboard/export/"
DRAFT = "/admin/dashboard/knowledge-draft/"
PERIOD = {"period": "custom", "start": "2026-03-10", "end": "2026-03-11"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["admin_a", "agent_a", "viewer_a"])
def test_front_page_is_the_dashboard_of_the_own_tenant(role, request, history):  # noqa: F811
    client = client_for(request.getfixturevalue(role))
    response = client.get(INDEX, PERIOD)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="chart-conversations"' in page and "dashboard-data" in page
    assert "租户甲" in page and "租户乙" not in page
    payload = response.context["payload"]
    counters = {c["name"]: c["value"] for c in payload["counters"]}
    assert counters["conversations"] == 3 and counters["llm_tokens"] == 460
    # The admin's model list is still there.
    assert "/admin/workorders/workorder/" in page
    questions = {group["question"] for group in payload["unanswered"]}
    assert questions == {"OTA 升级失败怎么办", "蓝牙连不上"}
    assert ("data-draft-url" in page) == (role != "viewer_a")


def test_tenant_b_never_sees_tenant_a(admin_b, history):  # noqa: F811
    response = client_for(admin_b).get(DATA, PERIOD)
    data = response.json()
    assert data["period"]["tenant"] == "tenant-b"
    counters = {c["name"]: c["value"] for c in data["counters"]}
    assert counters["conversations"] == 1 and counters["llm_tokens"] == 99999
    assert [group["question"] for group in data["unanswered"]] == ["user message"]


def test_superuser_chooses_a_tenant(superuser, tenant_a, tenant_b, history):  # noqa: F811
    client = client_for(superuser)
    page = client.get(INDEX).content.decode()
    assert "hd-tenant" in page and "dashboard-data" not in page
    assert client.get(DATA).status_code == 404
    response = client.get(INDEX, {"tenant": "tenant-b", **PERIOD})
    counters = {c["name"]: c["value"] for c in response.context["payload"]["counters"]}
    assert counters["llm_tokens"] == 99999
    # Remembered in the session; no knowledge drafts without a tenant of one's own.
    again = client.get(DATA, PERIOD).json()
    assert again["period"]["tenant"] == "tenant-b"
    assert "data-draft-url" not in response.content.decode()


def test_anonymous_users_are_sent_to_the_login(db):
    response = Client().get(INDEX)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Client().get(DATA).status_code == 302


def test_period_picker_presets_and_errors(agent_a):
    client = client_for(agent_a)
    for preset in ("today", "7d", "30d"):
        response = client.get(INDEX, {"period": preset})
        assert response.status_code == 200
        period = response.context["period"]
        assert period.days == {"today": 1, "7d": 7, "30d": 30}[preset]
    broken = client.get(INDEX, {"period": "custom", "start": "2026-03-11"})
    assert broken.status_code == 200 and "errorlist" in broken.content.decode()
    assert client.get(DATA, {"period": "custom", "start": "2026-03-11"}).status_code == 400


def test_downloads(agent_a, history):  # noqa: F811
    client = client_for(agent_a)
    workbook = client.get(EXPORT, PERIOD)
    assert workbook.status_code == 200 and workbook["Content-Disposition"].endswith('.xlsx"')
    table = client.get(EXPORT, {**PERIOD, "table": "sla"})
    assert table["Content-Type"].startswith("text/csv") and "tenant-a" in table.content.decode()
    assert client.get(EXPORT, {**PERIOD, "table": "nope"}).status_code == 400


def question(tenant, text):
    with tenant_scope(tenant):
        return Message.objects.get(role="user", content=text)


def test_knowledge_draft_from_staff_replies(agent_a, tenant_a, history):  # noqa: F811
    asked = question(tenant_a, "蓝牙连不上")
    with tenant_scope(tenant_a):
        Message.objects.create(
            session=asked.session, role="agent", content="请在车机设置中删除旧配对后重新配对。"
        )
    client = client_for(agent_a)
    response = client.post(DRAFT, {"message": asked.pk})
    assert response.status_code == 302
    assert response["Location"] == "/admin/knowledge/knowledgeentry/add/?draft=1"
    form = client.get(response["Location"])
    initial = form.context["adminform"].form.initial
    assert initial["question"] == "蓝牙连不上"
    assert initial["answer"] == "请在车机设置中删除旧配对后重新配对。"
    # Taken once: a second add form starts empty.
    assert "question" not in client.get(response["Location"]).context["adminform"].form.initial


def test_staff_replies_use_the_work_order_selected_with_the_message(
    agent_a,
    tenant_a,
    history,  # noqa: F811
    django_assert_num_queries,
):
    asked = question(tenant_a, "蓝牙连不上")
    with tenant_scope(tenant_a):
        order = workorder_create(title="蓝牙", actor=agent_a)
        workorder_comment(
            work_order=order, actor=agent_a, body="已远程重置蓝牙模块。", internal=False
        )
        WorkOrder.objects.filter(pk=order.pk).update(resolution="更换蓝牙模块。")
        ChatSession.objects.filter(pk=asked.session_id).update(work_order=order)
        Message.objects.create(session=asked.session, role="agent", content="请重新配对。")
        message = Message.objects.select_related("session__work_order").get(pk=asked.pk)
        with django_assert_num_queries(2):  # the conversation's replies, the comments
            replies = staff_replies(message)
    assert replies == ["请重新配对。", "已远程重置蓝牙模块。", "更换蓝牙模块。"]


def test_knowledge_draft_is_scoped_and_needs_an_agent(agent_b, viewer_a, tenant_a, history):  # noqa: F811
    asked = question(tenant_a, "蓝牙连不上")
    assert client_for(agent_b).post(DRAFT, {"message": asked.pk}).status_code == 404
    assert client_for(viewer_a).post(DRAFT, {"message": asked.pk}).status_code == 403
    assert client_for(agent_b).post(DRAFT, {"message": "9" * 30}).status_code == 404
    assert client_for(agent_b).get(DRAFT).status_code == 405


def test_knowledge_draft_written_by_the_llm(agent_a, tenant_a, history):  # noqa: F811
    from helpdesk.config import get_config
    from llm.models import LLMCall
    from llmstub import StubLLMServer

    asked = question(tenant_a, "蓝牙连不上")
    with tenant_scope(tenant_a):
        Message.objects.create(
            session=asked.session, role="agent", content="删除旧配对后重新配对。"
        )
    with StubLLMServer(tokens=6) as stub:
        get_config().update(
            {"llm.base_url": stub.base_url, "llm.model": "stub", "llm.max_retries": 0}
        )
        client = client_for(agent_a)
        response = client.post(DRAFT, {"message": asked.pk})
        prompt = stub.requests()[-1]["messages"][1]["content"]
    assert "蓝牙连不上" in prompt and "删除旧配对后重新配对" in prompt
    initial = client.get(response["Location"]).context["adminform"].form.initial
    assert initial["answer"].startswith("Stub answer")
    with tenant_scope(tenant_a):
        assert LLMCall.objects.filter(purpose="knowledge_draft").count() == 1
