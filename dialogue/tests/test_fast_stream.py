"""The chat stream's fast path, through the real ASGI application on a uvicorn server.

The server runs in a thread of the test process, on the test database and cache; the
requests are real HTTP. Whether Django's request cycle answered is seen from its
`request_started` signal. With SQLite or the in-memory cache the fast path is off, and
the tests that expect it are skipped; the others check that Django answers as before.
"""

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
import redis
import uvicorn
from django.conf import settings
from django.core.cache import cache
from django.core.signals import request_started
from django.db import connections
from django.test import override_settings
from django.utils import timezone

from accounts.models import ApiToken
from dialogue import fast_stream, pipeline
from dialogue.authentication import issue_visitor_token
from dialogue.models import ChatSession, Message, Role, SessionStatus
from dialogue.pipeline import native_store
from helpdesk.config import get_config
from helpdesk.loops import PerLoopSemaphore
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import free_port, sse_events
from llm.models import LLMCall

SESSIONS = "/api/v1/chat/sessions/"


@pytest.fixture(scope="module")
def server_url(django_db_setup, django_db_blocker) -> Iterator[str]:
    from helpdesk.asgi import application

    port = free_port()
    config = uvicorn.Config(application, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    with django_db_blocker.unblock():
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        thread.join(timeout=10)
        for connection in connections.all(initialized_only=True):
            if hasattr(connection, "close_pool"):
                connection.close_pool()


@pytest.fixture
def django_requests() -> Iterator[list[str]]:
    """Paths of the requests Django's own handler served during the test."""
    seen: list[str] = []

    def record(sender, scope=None, environ=None, **kwargs):
        seen.append(scope["path"] if scope else environ["PATH_INFO"])

    request_started.connect(record, dispatch_uid="fast-stream-test")
    yield seen
    request_started.disconnect(dispatch_uid="fast-stream-test")


@pytest.fixture
def fast(transactional_db) -> None:
    if not native_store.available():
        pytest.skip("The fast path needs PostgreSQL and the shared Redis cache.")


def visitor(server_url: str, tenant, visitor_id: str = "visitor-1", **headers) -> httpx.Client:
    token = issue_visitor_token(tenant=tenant, visitor_id=visitor_id)
    return httpx.Client(
        base_url=server_url,
        headers={"Authorization": f"Visitor {token}", **headers},
        timeout=10,
    )


def open_session(client: httpx.Client) -> int:
    response = client.post(SESSIONS, json={})
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]["id"]


def stream(client: httpx.Client, session_id: int, body: dict) -> httpx.Response:
    return client.post(f"{SESSIONS}{session_id}/stream/", json=body)


def final_event(client: httpx.Client, session_id: int, body: dict) -> dict:
    """The data of the stream's last event (`done` unless something failed)."""
    return sse_events(stream(client, session_id, body).text)[-1][1]


def test_fast_path_streams_and_saves_the_turn(
    fast, server_url, tenant_a, llm, refund_entries, django_requests
):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    response = stream(client, session_id, {"content": "退款多久到账", "client_message_id": "m1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    found = sse_events(response.text)
    name, final = found[-1]
    assert name == "done" and final["citations"] and final["confidence"] > 0
    assert final["text"] == "".join(data["text"] for name, data in found if name == "delta")
    assert final["usage"]["completion_tokens"] == 12
    assert django_requests == [SESSIONS], "the stream itself did not go through Django"
    with tenant_scope(tenant_a):
        session = ChatSession.objects.get(pk=session_id)
        question, answer = session.messages.order_by("id")
    assert (question.role, question.content, question.channel_message_id) == (
        Role.USER,
        "退款多久到账",
        "m1",
    )
    assert question.tenant_id == tenant_a.pk and answer.reply_to_id == question.pk
    assert answer.content == final["text"] and answer.citations == final["citations"]
    assert session.message_count == 2 and session.last_activity_at >= question.created_at
    assert len(llm.requests()) == 1
    prompt = llm.requests()[0]["messages"]
    assert "退款审核通过后" in prompt[0]["content"] and prompt[-1]["content"] == "退款多久到账"


def test_fast_path_prompt_carries_history(fast, server_url, tenant_a, llm, django_requests):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    for content in ("第一个问题", "第二个问题"):
        assert stream(client, session_id, {"content": content}).status_code == 200
    assert django_requests == [SESSIONS]
    history = [(m["role"], m["content"][:5]) for m in llm.requests()[1]["messages"][1:]]
    assert history[0] == ("user", "第一个问题") and history[1][0] == "assistant"
    assert history[-1] == ("user", "第二个问题")


def test_fast_path_answers_in_the_visitors_language(fast, server_url, tenant_a, llm):
    llm.queue_faults("500")
    client = visitor(server_url, tenant_a, **{"Accept-Language": "en"})
    response = stream(client, open_session(client), {"content": "hello"})
    assert response.headers["content-language"] == "en"
    assert sse_events(response.text)[-1][1]["text"].startswith("Sorry, the assistant")


def test_fast_path_sends_the_headers_django_would(fast, server_url, tenant_a, llm, django_requests):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    fast_headers = stream(client, session_id, {"content": "你好"}).headers
    with override_settings(CHAT_NATIVE_STORE=False):
        django_headers = stream(client, session_id, {"content": "你好"}).headers
    assert django_requests == [SESSIONS, f"{SESSIONS}{session_id}/stream/"]
    names = {"content-type", "cache-control", "x-accel-buffering", "content-language"}
    names |= {"x-content-type-options", "referrer-policy", "cross-origin-opener-policy"}
    names |= {"x-frame-options"}
    assert {n: fast_headers.get(n) for n in names} == {n: django_headers.get(n) for n in names}
    # Django's also varies on Accept and Cookie, which DRF and the session middleware
    # looked at; the fast path reads neither, and a POST stream is not cached anyway.
    assert "Accept-Language" in fast_headers["vary"] and "Accept-Language" in django_headers["vary"]
    assert fast_headers["x-content-type-options"] == "nosniff"


def test_other_tenants_and_visitors_sessions_are_not_found(
    transactional_db, server_url, tenant_a, tenant_b, llm
):
    session_id = open_session(visitor(server_url, tenant_a))
    other_tenant = stream(visitor(server_url, tenant_b), session_id, {"content": "你好"})
    other_visitor = stream(visitor(server_url, tenant_a, "visitor-2"), session_id, {"content": "x"})
    assert other_tenant.status_code == 404 and other_visitor.status_code == 404
    assert other_tenant.json()["error"]["code"] == "not_found"
    with tenant_scope(tenant_a):
        assert not Message.objects.exists()
    with tenant_scope(tenant_b):
        assert not Message.objects.exists() and not ChatSession.objects.exists()
    assert llm.stats()["requests"] == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [({"content": " "}, 400, "content"), ({"content": "x" * 5000}, 400, "content")],
)
def test_invalid_messages_get_the_views_errors(
    transactional_db, server_url, tenant_a, llm, body, status, field
):
    client = visitor(server_url, tenant_a)
    response = stream(client, open_session(client), body)
    assert response.status_code == status
    assert field in response.json()["error"]["fields"]
    with tenant_scope(tenant_a):
        assert not Message.objects.exists()


def test_malformed_requests_get_the_views_errors(transactional_db, server_url, tenant_a, llm):
    client = visitor(server_url, tenant_a)
    path = f"{SESSIONS}{open_session(client)}/stream/"
    not_json = client.post(path, content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["success"] is False
    bad_token = client.post(path, json={"content": "你好"}, headers={"Authorization": "Visitor x"})
    assert bad_token.status_code == 401
    assert bad_token.json()["error"]["code"] == "authentication_failed"


def test_a_resent_message_returns_the_original_answer(transactional_db, server_url, tenant_a, llm):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    first = final_event(client, session_id, {"content": "你好", "client_message_id": "m1"})
    again = final_event(client, session_id, {"content": "你好", "client_message_id": "m1"})
    assert again["duplicate"] is True
    assert again["answer"] == first["answer"]
    assert len(llm.requests()) == 1
    with tenant_scope(tenant_a):
        assert Message.objects.filter(role=Role.USER).count() == 1


def test_hand_off_and_handed_off_sessions(
    transactional_db, server_url, tenant_a, llm, django_requests
):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    handed_off = final_event(client, session_id, {"content": "转人工"})
    assert handed_off["handed_off"] is True and handed_off["work_order"]
    forwarded = final_event(client, session_id, {"content": "还在吗"})
    assert forwarded["answer"] is None and forwarded["session_status"] == "handed_off"
    with tenant_scope(tenant_a):
        assert Message.objects.filter(session_id=session_id, role=Role.USER).count() == 2
    served_by_django = 0 if native_store.available() else 2
    assert django_requests.count(f"{SESSIONS}{session_id}/stream/") == served_by_django


def test_ended_and_idle_sessions(transactional_db, server_url, tenant_a, llm):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    with tenant_scope(tenant_a):
        ChatSession.objects.filter(pk=session_id).update(status=SessionStatus.ENDED)
    ended = stream(client, session_id, {"content": "你好"})
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "session_ended"

    idle_id = open_session(client)
    idle_for = timedelta(minutes=get_config().get("dialogue.session_idle_minutes") + 1)
    with tenant_scope(tenant_a):
        ChatSession.objects.filter(pk=idle_id).update(last_activity_at=timezone.now() - idle_for)
    final = final_event(client, idle_id, {"content": "你好"})
    assert final["session"] != idle_id and final["answer"]
    with tenant_scope(tenant_a):
        assert ChatSession.objects.get(pk=idle_id).status == SessionStatus.ENDED


def test_the_visitor_limit_counts_each_request_once(
    transactional_db, server_url, tenant_a, llm, django_requests, whole_minute
):
    get_config().set("dialogue.visitor_rate_per_minute", 3)
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    first = stream(client, session_id, {"content": "你好", "client_message_id": "m1"})
    duplicate = stream(client, session_id, {"content": "你好", "client_message_id": "m1"})
    limited = stream(client, session_id, {"content": "再问", "client_message_id": "m2"})
    assert (first.status_code, duplicate.status_code, limited.status_code) == (200, 200, 429)
    assert int(limited.headers["retry-after"]) <= 60
    assert limited.json()["error"]["code"] == "throttled"
    with tenant_scope(tenant_a):
        assert Message.objects.filter(role=Role.USER).count() == 1
    other = visitor(server_url, tenant_a, "visitor-2")
    assert stream(other, open_session(other), {"content": "你好"}).status_code == 200


def test_a_disconnected_client_keeps_the_partial_answer(
    fast, server_url, tenant_a, llm, django_requests
):
    llm.configure(token_delay_ms=200)
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    with client.stream("POST", f"{SESSIONS}{session_id}/stream/", json={"content": "你好"}) as r:
        first = next(r.iter_text())
        assert first.startswith("event: delta")
    deadline = time.monotonic() + 10
    answer = None
    while answer is None and time.monotonic() < deadline:
        with tenant_scope(tenant_a):
            answer = Message.objects.filter(session_id=session_id, role=Role.ASSISTANT).first()
        time.sleep(0.05)
    assert answer is not None and answer.error_type == "client_disconnected"
    assert django_requests == [SESSIONS]


def test_staff_streams_go_through_django(
    transactional_db, server_url, tenant_a, agent_a, llm, django_requests
):
    _token, key = ApiToken.issue(user=agent_a, max_age=timedelta(days=1))
    staff = httpx.Client(base_url=server_url, headers={"Authorization": f"Token {key}"})
    created = staff.post(SESSIONS, json={"external_user_id": "crm-7"})
    session_id = created.json()["data"]["id"]
    response = stream(staff, session_id, {"content": "你好"})
    assert response.status_code == 200 and sse_events(response.text)[-1][0] == "done"
    assert f"{SESSIONS}{session_id}/stream/" in django_requests


def test_a_repeated_question_uses_the_cached_search_and_fresh_entries(
    fast, server_url, tenant_a, llm, refund_entries, django_requests
):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    assert stream(client, session_id, {"content": "退款多久到账"}).status_code == 200
    with tenant_scope(tenant_a):
        entry = refund_entries[1]
        entry.answer = "退款当天到账。"
        entry.save()
    assert stream(client, session_id, {"content": "退款多久到账"}).status_code == 200
    assert stream(client, session_id, {"content": "退款多久到账"}).status_code == 200
    first, edited, cached = (request["messages"][0]["content"] for request in llm.requests())
    assert "1-3 个工作日到账" in first
    assert "退款当天到账。" in edited and edited == cached
    assert django_requests == [SESSIONS]


def test_with_the_search_cache_off_every_question_is_searched(
    fast, server_url, tenant_a, llm, refund_entries, django_requests
):
    get_config().set("knowledge.search_cache_seconds", 0)
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    finals = [
        final_event(client, session_id, {"content": "退款多久到账", "client_message_id": key})
        for key in ("m1", "m2")
    ]
    with tenant_scope(tenant_a):
        refund_entries[1].answer = "退款当天到账。"
        refund_entries[1].save()
    finals.append(final_event(client, session_id, {"content": "退款多久到账"}))

    assert all(final["citations"] for final in finals)
    first, second, edited = (request["messages"][0]["content"] for request in llm.requests())
    assert "1-3 个工作日到账" in first and first == second
    assert "退款当天到账。" in edited
    assert django_requests == [SESSIONS]
    results = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).keys(
        cache.make_and_validate_key(f"knowledge:search:{tenant_a.pk}:*")
    )
    assert results == []


def test_fast_path_records_the_call_and_the_knowledge_used(
    fast, server_url, tenant_a, tenant_b, llm, refund_entries
):
    client = visitor(server_url, tenant_a)
    final = final_event(client, open_session(client), {"content": "退款多久到账"})
    with tenant_scope(tenant_a):
        call = LLMCall.objects.get()
        answer = Message.objects.get(pk=final["answer"])
        used = {entry.pk: entry.usage_count for entry in refund_entries}
        for entry in refund_entries:
            entry.refresh_from_db()
    assert (call.purpose, call.outcome, call.completion_tokens) == ("chat", "ok", 12)
    assert answer.llm_call_id == str(call.pk) and answer.first_token_ms is not None
    assert final["citations"] and all(
        entry.usage_count == used[entry.pk] + (entry.pk in final["citations"])
        for entry in refund_entries
    )
    with tenant_scope(tenant_b):
        assert not LLMCall.objects.exists()


def test_fast_path_hands_off_after_low_confidence_answers(fast, server_url, tenant_a, llm):
    get_config().set("dialogue.handoff_after_low_confidence", 2)
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    first = final_event(client, session_id, {"content": "火星上能退货吗"})
    second = final_event(client, session_id, {"content": "木星呢"})
    assert first["low_confidence"] and not first["handed_off"]
    assert second["handed_off"] and second["work_order"]
    assert "工单 WO-" in second["text"]
    with tenant_scope(tenant_a):
        session = ChatSession.objects.get(pk=session_id)
        assert session.status == SessionStatus.HANDED_OFF
        assert Message.objects.get(pk=second["answer"]).content == second["text"]


def test_fast_path_uses_the_tenants_own_system_prompt(fast, server_url, tenant_a, tenant_b, llm):
    tenant_a.settings = {"system_prompt": "你是甲公司的客服。"}
    tenant_a.save()
    for tenant in (tenant_a, tenant_b):
        client = visitor(server_url, tenant)
        assert stream(client, open_session(client), {"content": "你好"}).status_code == 200
    own, default = (request["messages"][0]["content"] for request in llm.requests())
    assert own.startswith("你是甲公司的客服。")
    assert default.startswith(get_config().get("dialogue.system_prompt"))


def test_without_an_llm_the_knowledge_base_answers(
    transactional_db, server_url, tenant_a, refund_entries, django_requests
):
    client = visitor(server_url, tenant_a)
    session_id = open_session(client)
    final = final_event(client, session_id, {"content": "退款多久到账"})
    assert final["kb_only"] is True and final["citations"] == [refund_entries[1].pk]
    served_by_django = f"{SESSIONS}{session_id}/stream/" in django_requests
    assert served_by_django is not native_store.available()


def test_visitors_beyond_the_preparing_slots_wait_their_turn(
    fast, server_url, tenant_a, tenant_b, llm, monkeypatch, django_requests
):
    monkeypatch.setattr(fast_stream, "_preparing", PerLoopSemaphore(1))
    preparing, most_at_once = 0, 0
    prepare = pipeline.prepare

    async def counted(incoming, **options):
        nonlocal preparing, most_at_once
        preparing += 1
        most_at_once = max(most_at_once, preparing)
        try:
            await asyncio.sleep(0.02)
            return await prepare(incoming, **options)
        finally:
            preparing -= 1

    monkeypatch.setattr(pipeline, "prepare", counted)
    llm.configure(latency_ms=50)
    clients = [
        visitor(server_url, tenant, f"visitor-{number}")
        for tenant in (tenant_a, tenant_b)
        for number in range(3)
    ]
    sessions = [open_session(client) for client in clients]

    with ThreadPoolExecutor(len(clients)) as pool:
        finals = list(
            pool.map(
                lambda pair: final_event(pair[0], pair[1], {"content": "退款多久到账"}),
                zip(clients, sessions, strict=True),
            )
        )

    assert most_at_once == 1
    assert [final["session"] for final in finals] == sessions
    assert all(final["text"] for final in finals)
    assert django_requests == [SESSIONS] * len(clients)
    for tenant, own in ((tenant_a, sessions[:3]), (tenant_b, sessions[3:])):
        with tenant_scope(tenant):
            assert sorted(
                Message.objects.filter(role=Role.USER).values_list("session_id", flat=True)
            ) == sorted(own)
