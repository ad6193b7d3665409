"""Admin pages of conversations, messages and suggestions: two tenants, roles, replies."""

import pytest

from dialogue import services
from dialogue.models import ChatSession, HandoffReason, Message, Role, SessionStatus
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def session_a(tenant_a, llm):
    with tenant_scope(tenant_a):
        session, _ = services.session_open(channel="web", external_user_id="visitor-a")
        question = services.message_add_user(session=session, content="车机黑屏怎么办")
        services.message_add_answer(session=session, reply_to=question, content="请重启车机 [1]")
        return services.session_handoff(session=session, reason=HandoffReason.KEYWORD)


def login(client, user):
    client.force_login(user)
    return client


def test_lists_and_change_page(client, agent_a, agent_b, session_a):
    login(client, agent_a)
    for url in (
        "/admin/dialogue/chatsession/",
        "/admin/dialogue/message/",
        "/admin/dialogue/workordersuggestion/",
        "/admin/dialogue/chatsession/?q=黑屏",
        "/admin/dialogue/chatsession/?status=handed_off",
    ):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/dialogue/chatsession/{session_a.pk}/change/")
    assert page.status_code == 200
    assert "车机黑屏怎么办" in page.content.decode()
    client.force_login(agent_b)
    assert "visitor-a" not in client.get("/admin/dialogue/chatsession/").content.decode()
    assert client.get(f"/admin/dialogue/chatsession/{session_a.pk}/change/").status_code == 302


def test_list_query_count_does_not_grow(client, agent_a, tenant_a, session_a, llm):
    login(client, agent_a)
    with tenant_scope(tenant_a):
        for number in range(5):
            services.session_open(channel="web", external_user_id=f"v{number}")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/admin/dialogue/chatsession/")
    with tenant_scope(tenant_a):
        for number in range(5, 15):
            services.session_open(channel="web", external_user_id=f"v{number}")
    with CaptureQueriesContext(connection) as many:
        client.get("/admin/dialogue/chatsession/")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_agent_replies_from_the_admin(client, agent_a, tenant_a, session_a):
    login(client, agent_a)
    response = client.post(
        f"/admin/dialogue/chatsession/{session_a.pk}/change/",
        {
            "agent_reply": "您好，我是人工客服，请问车辆 VIN 是多少？",
            "messages-TOTAL_FORMS": "0",
            "messages-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        reply = Message.objects.get(role=Role.AGENT)
        assert reply.author == agent_a and "VIN" in reply.content
        assert session_a.work_order.events.filter(body__contains="VIN").exists()


def test_viewer_reads_but_cannot_reply_or_end(client, viewer_a, tenant_a, session_a):
    login(client, viewer_a)
    assert client.get("/admin/dialogue/chatsession/").status_code == 200
    client.post(
        f"/admin/dialogue/chatsession/{session_a.pk}/change/",
        {"agent_reply": "x", "messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0"},
    )
    client.post(
        "/admin/dialogue/chatsession/",
        {"action": "end_sessions", "_selected_action": [session_a.pk]},
    )
    with tenant_scope(tenant_a):
        assert not Message.objects.filter(role=Role.AGENT).exists()
        assert ChatSession.objects.get(pk=session_a.pk).status == SessionStatus.HANDED_OFF


def test_end_action(client, agent_a, tenant_a, session_a):
    login(client, agent_a)
    response = client.post(
        "/admin/dialogue/chatsession/",
        {"action": "end_sessions", "_selected_action": [session_a.pk]},
    )
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        assert ChatSession.objects.get(pk=session_a.pk).status == SessionStatus.ENDED


def test_superuser_sees_every_tenant(client, superuser, session_a, tenant_b, llm):
    with tenant_scope(tenant_b):
        services.session_open(channel="web", external_user_id="visitor-b")
    login(client, superuser)
    page = client.get("/admin/dialogue/chatsession/").content.decode()
    assert "visitor-a" in page and "visitor-b" in page
    assert client.get(f"/admin/dialogue/chatsession/{session_a.pk}/change/").status_code == 200


def _conversations(tenant, count: int) -> None:
    with tenant_scope(tenant):
        for number in range(count):
            session, _ = services.session_open(channel="web", external_user_id=f"v{number}")
            question = services.message_add_user(session=session, content="车机黑屏怎么办")
            services.message_add_answer(session=session, reply_to=question, content="请重启 [1]")
            services.session_handoff(session=session, reason=HandoffReason.KEYWORD)


@pytest.mark.parametrize("url", ["/admin/dialogue/chatsession/", "/admin/dialogue/message/"])
def test_changelist_queries_do_not_grow_with_rows(
    client, tenant_a, agent_a, llm, url, django_assert_max_num_queries
):
    login(client, agent_a)
    _conversations(tenant_a, 2)
    with django_assert_max_num_queries(99) as few:
        assert client.get(url).status_code == 200
    baseline = len(few)
    _conversations(tenant_a, 6)
    with django_assert_max_num_queries(baseline):
        assert client.get(url).status_code == 200
