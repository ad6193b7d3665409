"""The HTTP chat API: visitors, staff, two tenants, JSON and SSE answers."""

import json
import time

import pytest
from asgiref.sync import async_to_sync
from django.core import signing
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from conftest import api_client_for, make_user
from dialogue import services
from dialogue.authentication import SALT, issue_visitor_token
from dialogue.models import ChatSession, Message, SessionStatus
from dialogue.tests.conftest import visitor_client
from helpdesk.config import get_config
from helpdesk.roles import Role
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema, sse_events
from knowledge.services import entry_create

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/chat/sessions/"


def open_session(client) -> int:
    response = client.post(SESSIONS, {}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()["data"]["id"]


def send(client, session_id: int, content: str, **extra):
    return client.post(
        f"{SESSIONS}{session_id}/messages/", {"content": content, **extra}, format="json"
    )


def test_visitor_token_from_widget_key(client, tenant_a):
    response = client.post(
        "/api/v1/chat/visitor-token/",
        {"widget_key": tenant_a.widget_key, "visitor_id": "v-123"},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert_matches_schema(response, "post", "/api/v1/chat/visitor-token/")
    token = response.json()["data"]["token"]
    opened = client.post(SESSIONS, {}, HTTP_AUTHORIZATION=f"Visitor {token}")
    assert opened.status_code == 201
    assert opened.json()["data"]["external_user_id"] == "v-123"


@pytest.mark.parametrize(
    "body",
    [{"widget_key": "nope", "visitor_id": "v"}, {"widget_key": "x"}, {"visitor_id": "a b"}],
)
def test_visitor_token_bad_input(client, tenant_a, body):
    response = client.post("/api/v1/chat/visitor-token/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert_matches_schema(response, "post", "/api/v1/chat/visitor-token/")


def test_bad_and_expired_visitor_tokens_are_refused(tenant_a):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Visitor forged")
    assert client.post(SESSIONS, {}).status_code == 401
    get_config().set("dialogue.visitor_token_max_age_seconds", 60)

    class HourOldSigner(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 3600)

    token = HourOldSigner(salt=SALT).sign_object({"t": tenant_a.pk, "v": "v"}, compress=True)
    client.credentials(HTTP_AUTHORIZATION=f"Visitor {token}")
    response = client.post(SESSIONS, {})
    assert response.status_code == 401


def test_visitor_conversation(tenant_a, llm, refund_entries, visitor_a):
    session_id = open_session(visitor_a)
    assert open_session(visitor_a) == session_id  # resumed, not duplicated
    response = send(visitor_a, session_id, "怎么申请退款？", client_message_id="c-1")
    assert response.status_code == 200, response.content
    assert_matches_schema(response, "post", "/api/v1/chat/sessions/{id}/messages/")
    data = response.json()["data"]
    assert data["answer"]["citations"] and data["answer"]["confidence"] > 0
    assert data["message"]["content"] == "怎么申请退款？"
    again = send(visitor_a, session_id, "怎么申请退款？", client_message_id="c-1")
    assert again.json()["data"]["duplicate"] is True
    assert again.json()["data"]["answer"]["id"] == data["answer"]["id"]
    assert again.json()["data"]["answer"]["sources"] == data["answer"]["sources"]
    assert all(source["title"] for source in data["answer"]["sources"])
    history = visitor_a.get(f"{SESSIONS}{session_id}/messages/")
    assert history.status_code == 200
    assert_matches_schema(history, "get", "/api/v1/chat/sessions/{id}/messages/")
    assert [m["role"] for m in history.json()["data"]] == ["user", "assistant"]


def test_bad_message_is_400_and_nothing_saved(tenant_a, llm, visitor_a):
    session_id = open_session(visitor_a)
    for body in ({"content": ""}, {"content": "长" * 2001}, {}):
        response = visitor_a.post(f"{SESSIONS}{session_id}/messages/", body, format="json")
        assert response.status_code == 400
        assert_matches_schema(response, "post", "/api/v1/chat/sessions/{id}/messages/")
        assert "content" in response.json()["error"]["fields"]
    with tenant_scope(tenant_a):
        assert Message.objects.count() == 0


def test_visitor_reaches_only_its_own_sessions(tenant_a, tenant_b, llm, visitor_a, client_b):
    session_id = open_session(visitor_a)
    other = visitor_client(tenant_a, "visitor-2")
    assert other.get(f"{SESSIONS}{session_id}/").status_code == 404
    assert send(other, session_id, "你好").status_code == 404
    assert client_b.get(f"{SESSIONS}{session_id}/").status_code == 404
    assert client_b.get(f"{SESSIONS}{session_id}/messages/").status_code == 404
    visitor_b = visitor_client(tenant_b, "visitor-1")
    assert visitor_b.get(f"{SESSIONS}{session_id}/").status_code == 404
    # Visitors cannot list sessions or reach staff endpoints.
    assert visitor_a.get(SESSIONS).status_code == 403
    assert visitor_a.get("/api/v1/chat/messages/").status_code == 401
    assert visitor_a.get("/api/v1/workorders/").status_code == 401


def test_staff_lists_and_filters_sessions(tenant_a, tenant_b, llm, visitor_a, client_a, client_b):
    session_id = open_session(visitor_a)
    send(visitor_a, session_id, "发票怎么开")
    api_session = client_a.post(SESSIONS, {"external_user_id": "crm-42"}, format="json")
    assert api_session.status_code == 201 and api_session.json()["data"]["channel"] == "api"
    response = client_a.get(SESSIONS)
    assert_matches_schema(response, "get", "/api/v1/chat/sessions/")
    assert response.json()["meta"]["pagination"]["count"] == 2
    web = client_a.get(SESSIONS, {"channel": "web", "low_confidence": "true"}).json()
    assert [s["id"] for s in web["data"]] == [session_id]
    found = client_a.get(SESSIONS, {"q": "发票"}).json()["data"]
    assert [s["id"] for s in found] == [session_id]
    assert client_a.get(SESSIONS, {"handed_off": "true"}).json()["data"] == []
    bad = client_a.get(SESSIONS, {"since": "yesterday", "channel": "fax"})
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"since", "channel"}
    assert_matches_schema(bad, "get", "/api/v1/chat/sessions/")
    assert client_b.get(SESSIONS).json()["data"] == []
    messages = client_a.get("/api/v1/chat/messages/", {"role": "user"})
    assert_matches_schema(messages, "get", "/api/v1/chat/messages/")
    assert [m["content"] for m in messages.json()["data"]] == ["发票怎么开"]
    assert client_b.get("/api/v1/chat/messages/").json()["data"] == []


def test_the_staff_message_list_reads_authors_in_the_same_query(
    tenant_a, tenant_b, llm, visitor_a, client_a, client_b
):
    session_id = open_session(visitor_a)
    send(visitor_a, session_id, "我要转人工")

    def replied(content: str) -> None:
        response = client_a.post(f"{SESSIONS}{session_id}/reply/", {"content": content})
        assert response.status_code in (200, 201), response.content

    def agent_messages() -> list[dict]:
        response = client_a.get("/api/v1/chat/messages/", {"role": "agent"})
        assert_matches_schema(response, "get", "/api/v1/chat/messages/")
        return response.json()["data"]

    replied("您好")
    with CaptureQueriesContext(connection) as few:
        assert len(agent_messages()) == 1
    for content in ("请稍等", "已经处理", "还有别的问题吗"):
        replied(content)
    with CaptureQueriesContext(connection) as more:
        listed = agent_messages()
    assert len(listed) == 4 and all(m["author"]["name"] for m in listed)
    assert len(more) == len(few)
    assert client_b.get("/api/v1/chat/messages/").json()["data"] == []


def test_staff_create_needs_a_customer(client_a):
    response = client_a.post(SESSIONS, {}, format="json")
    assert response.status_code == 400
    assert "external_user_id" in response.json()["error"]["fields"]


def test_viewer_reads_but_cannot_write(tenant_a, viewer_a, llm, visitor_a):
    session_id = open_session(visitor_a)
    viewer = api_client_for(viewer_a)
    assert viewer.get(SESSIONS).status_code == 200
    assert send(viewer, session_id, "你好").status_code == 403
    assert viewer.post(f"{SESSIONS}{session_id}/end/").status_code == 403


def test_handoff_reply_and_end(tenant_a, llm, visitor_a, client_a, client_b):
    session_id = open_session(visitor_a)
    send(visitor_a, session_id, "车辆 OTA 升级失败")
    assert client_b.post(f"{SESSIONS}{session_id}/handoff/").status_code == 404
    response = visitor_a.post(f"{SESSIONS}{session_id}/handoff/")
    assert response.status_code == 200
    assert_matches_schema(response, "post", "/api/v1/chat/sessions/{id}/handoff/")
    data = response.json()["data"]
    assert data["status"] == "handed_off" and data["work_order"]
    silent = send(visitor_a, session_id, "有人吗")
    assert silent.json()["data"]["answer"] is None
    assert silent.json()["data"]["handed_off"] is True
    reply = client_a.post(f"{SESSIONS}{session_id}/reply/", {"content": "您好，我是客服小王"})
    assert reply.status_code == 201
    assert_matches_schema(reply, "post", "/api/v1/chat/sessions/{id}/reply/")
    assert client_b.post(f"{SESSIONS}{session_id}/reply/", {"content": "x"}).status_code == 404
    assert visitor_a.post(f"{SESSIONS}{session_id}/reply/", {"content": "x"}).status_code == 403
    history = visitor_a.get(f"{SESSIONS}{session_id}/messages/").json()["data"]
    assert history[-1]["role"] == "agent" and history[-1]["content"] == "您好，我是客服小王"
    conversation = client_a.get(f"/api/v1/workorders/{data['work_order']}/conversation/")
    assert conversation.status_code == 200
    assert_matches_schema(conversation, "get", "/api/v1/workorders/{id}/conversation/")
    assert conversation.json()["data"][0]["content"] == "车辆 OTA 升级失败"
    assert client_b.get(f"/api/v1/workorders/{data['work_order']}/conversation/").status_code == 404
    ended = client_a.post(f"{SESSIONS}{session_id}/end/")
    assert ended.json()["data"]["status"] == "ended"
    closed = send(visitor_a, session_id, "还在吗")
    assert closed.status_code == 409
    assert closed.json()["error"]["code"] == "session_ended"
    assert_matches_schema(closed, "post", "/api/v1/chat/sessions/{id}/messages/")
    assert open_session(visitor_a) != session_id


def test_feedback(tenant_a, llm, visitor_a, client_b):
    session_id = open_session(visitor_a)
    answer_id = send(visitor_a, session_id, "你好").json()["data"]["answer"]["id"]
    url = f"{SESSIONS}{session_id}/feedback/"
    assert visitor_a.post(url, {"message": answer_id, "thumbs": "up"}).status_code == 200
    rated = visitor_a.post(url, {"rating": 4})
    assert rated.status_code == 200 and rated.json()["data"]["satisfaction"] == 4
    assert_matches_schema(rated, "post", "/api/v1/chat/sessions/{id}/feedback/")
    for body in ({"rating": 6}, {}, {"thumbs": "up"}, {"message": 999999, "rating": 3}):
        bad = visitor_a.post(url, body, format="json")
        assert bad.status_code == 400, body
        assert_matches_schema(bad, "post", "/api/v1/chat/sessions/{id}/feedback/")
    assert client_b.post(url, {"rating": 1}).status_code == 404
    with tenant_scope(tenant_a):
        assert Message.objects.get(pk=answer_id).thumbs_up is True
        assert ChatSession.objects.get(pk=session_id).satisfaction == 4


def _stream(tenant, visitor_id: str, session_id: int, body: dict, accept: str = ""):
    token = issue_visitor_token(tenant=tenant, visitor_id=visitor_id)
    headers = {"Authorization": f"Visitor {token}"}
    if accept:
        headers["Accept"] = accept

    async def run():
        response = await AsyncClient().post(
            f"{SESSIONS}{session_id}/stream/",
            body,
            content_type="application/json",
            headers=headers,
        )
        if not response.streaming:
            return response, []
        chunks = [chunk async for chunk in response.streaming_content]
        return response, chunks

    return async_to_sync(run)()


def _events(chunks: list[bytes]) -> list[tuple[str, dict]]:
    return sse_events(b"".join(chunks).decode())


def test_stream_answers_as_server_sent_events(tenant_a, llm, refund_entries, visitor_a):
    llm.configure(token_delay_ms=5)
    session_id = open_session(visitor_a)
    response, chunks = _stream(tenant_a, "visitor-1", session_id, {"content": "退款多久到账"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    events = _events(chunks)
    deltas = [data["text"] for name, data in events if name == "delta"]
    name, final = events[-1]
    assert name == "done" and len(deltas) >= 2  # the first token alone, then the rest
    assert final["text"] == "".join(deltas)
    assert final["citations"] and final["confidence"] > 0
    assert final["usage"]["completion_tokens"] == 12
    with tenant_scope(tenant_a):
        assert Message.objects.get(pk=final["answer"]).content == final["text"]


def test_a_resent_message_streams_its_answers_sources_with_titles(
    tenant_a, llm, refund_entries, visitor_a
):
    session_id = open_session(visitor_a)
    body = {"content": "退款多久到账", "client_message_id": "s-1"}
    first = _events(_stream(tenant_a, "visitor-1", session_id, body)[1])[-1][1]
    name, again = _events(_stream(tenant_a, "visitor-1", session_id, body)[1])[-1]
    assert name == "done" and again["duplicate"] is True and again["answer"] == first["answer"]
    questions = {entry.question for entry in refund_entries}
    assert again["sources"] and {source["title"] for source in again["sources"]} <= questions
    assert again["sources"] == first["sources"]


def test_stream_errors_are_json_envelopes(tenant_a, tenant_b, llm, visitor_a):
    session_id = open_session(visitor_a)
    response, _ = _stream(tenant_a, "visitor-1", session_id, {"content": " "})
    assert response.status_code == 400
    assert json.loads(response.content)["error"]["fields"]["content"]
    response, _ = _stream(tenant_b, "visitor-1", session_id, {"content": "你好"})
    assert response.status_code == 404
    response, _ = _stream(tenant_a, "visitor-2", session_id, {"content": "你好"})
    assert response.status_code == 404
    with tenant_scope(tenant_a):
        assert Message.objects.count() == 0


def test_stream_accepts_an_event_stream_client(tenant_a, llm, visitor_a):
    session_id = open_session(visitor_a)
    accept = "text/event-stream"
    response, chunks = _stream(tenant_a, "visitor-1", session_id, {"content": "你好"}, accept)
    assert response.status_code == 200
    assert _events(chunks)[-1][0] == "done"
    response, _ = _stream(tenant_a, "visitor-1", session_id, {"content": " "}, accept)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert json.loads(response.content)["error"]["fields"]["content"]


def test_stream_on_a_handed_off_session(tenant_a, llm, visitor_a):
    session_id = open_session(visitor_a)
    _response, chunks = _stream(tenant_a, "visitor-1", session_id, {"content": "转人工"})
    _name, final = _events(chunks)[-1]
    assert final["handed_off"] is True and final["work_order"]
    with tenant_scope(tenant_a):
        assert ChatSession.objects.get(pk=session_id).status == SessionStatus.HANDED_OFF


def test_visitor_rate_limit(tenant_a, llm, visitor_a, whole_minute):
    get_config().set("dialogue.visitor_rate_per_minute", 2)
    assert visitor_a.post(SESSIONS, {}).status_code == 201
    assert visitor_a.post(SESSIONS, {}).status_code == 200
    limited = visitor_a.post(SESSIONS, {})
    assert limited.status_code == 429
    assert_matches_schema(limited, "post", "/api/v1/chat/sessions/")


def test_agent_of_tenant_b_cannot_create_for_a_work_order_of_a(tenant_a, tenant_b, agent_a):
    from workorders.services import workorder_create

    with tenant_scope(tenant_a):
        work_order = workorder_create(title="甲的工单")
    agent = make_user(tenant_b, Role.AGENT, "agent-b2")
    response = api_client_for(agent).post(
        SESSIONS, {"external_user_id": "c", "work_order": work_order.pk}, format="json"
    )
    assert response.status_code == 400
    assert "work_order" in response.json()["error"]["fields"]


def test_a_resent_message_still_being_answered_is_409_with_the_original(tenant_a, llm, visitor_a):
    session_id = open_session(visitor_a)
    with tenant_scope(tenant_a):
        session = ChatSession.objects.get(pk=session_id)
        busy = services.message_add_user(session=session, content="你好", channel_message_id="busy")
    response = send(visitor_a, session_id, "你好", client_message_id="busy")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "duplicate" and error["fields"] == {"original_message": busy.pk}
    assert_matches_schema(response, "post", "/api/v1/chat/sessions/{id}/messages/")
    assert llm.stats()["requests"] == 0


def test_staff_message_detail_is_tenant_scoped(tenant_a, llm, visitor_a, client_a, client_b):
    session_id = open_session(visitor_a)
    message_id = send(visitor_a, session_id, "你好").json()["data"]["message"]["id"]
    response = client_a.get(f"/api/v1/chat/messages/{message_id}/")
    assert response.status_code == 200
    assert_matches_schema(response, "get", "/api/v1/chat/messages/{id}/")
    missing = client_b.get(f"/api/v1/chat/messages/{message_id}/")
    assert missing.status_code == 404
    assert_matches_schema(missing, "get", "/api/v1/chat/messages/{id}/")


@pytest.mark.parametrize("url", ["/api/v1/chat/sessions/", "/api/v1/chat/messages/"])
def test_staff_lists_make_the_same_queries_for_more_rows(
    tenant_a, llm, client_a, url, django_assert_max_num_queries
):
    def conversations(count: int) -> None:
        for _ in range(count):
            session_id = open_session(visitor_client(tenant_a, f"v-{time.monotonic_ns()}"))
            client_a.post(f"{SESSIONS}{session_id}/handoff/")

    conversations(2)
    with django_assert_max_num_queries(99) as few:
        assert client_a.get(url).status_code == 200
    baseline = len(few)  # read now: the next requests clear the connection's query log
    conversations(6)
    with django_assert_max_num_queries(baseline):
        assert client_a.get(url).status_code == 200


def test_ids_beyond_any_primary_key_are_400(tenant_a, llm, visitor_a, client_a):
    huge = 10**20
    created = client_a.post(SESSIONS, {"external_user_id": "c1", "work_order": huge}, format="json")
    assert created.status_code == 400 and "work_order" in created.json()["error"]["fields"]
    listed = client_a.get(SESSIONS, {"work_order": huge})
    assert listed.status_code == 400 and "work_order" in listed.json()["error"]["fields"]
    session_id = open_session(visitor_a)
    rated = visitor_a.post(
        f"{SESSIONS}{session_id}/feedback/", {"message": huge, "thumbs": "up"}, format="json"
    )
    assert rated.status_code == 400 and "message" in rated.json()["error"]["fields"]


def test_history_names_sources_and_authors_in_one_query_each(
    tenant_a, llm, visitor_a, client_a, agent_a
):
    with tenant_scope(tenant_a):
        refund = entry_create(question="退款多久到账？", answer="1-3 个工作日到账。")
    session_id = open_session(visitor_a)
    answered = send(visitor_a, session_id, "退款多久到账").json()["data"]
    assert answered["answer"]["sources"] == [{"id": refund.pk, "title": "退款多久到账？"}]
    client_a.post(f"{SESSIONS}{session_id}/reply/", {"content": "您好，我是客服"})

    def history() -> list[dict]:
        response = visitor_a.get(f"{SESSIONS}{session_id}/messages/")
        assert_matches_schema(response, "get", "/api/v1/chat/sessions/{id}/messages/")
        return response.json()["data"]

    messages = history()
    answer = next(m for m in messages if m["role"] == "assistant")
    assert answer["sources"] == [{"id": refund.pk, "title": "退款多久到账？"}]
    agent = next(m for m in messages if m["role"] == "agent")
    assert agent["author"]["id"] == agent_a.pk and agent["author"]["name"]
    assert answer["author"] is None

    for content in ("还有问题", "再问一个"):
        send(visitor_a, session_id, content)
    with CaptureQueriesContext(connection) as few:
        history()
    for content in ("退款多久到账呢", "退款什么时候到账"):
        send(visitor_a, session_id, content)
    with CaptureQueriesContext(connection) as more:
        history()
    assert len(more) == len(few)
