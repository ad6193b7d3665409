"""The customer's WebSocket (/ws/chat/) on the real ASGI routes and channel layer."""

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async

from dialogue import services, staff
from dialogue.authentication import issue_visitor_token
from dialogue.live import customer as customer_module
from dialogue.live.protocol import MAX_FRAME_CHARS
from dialogue.models import ChatSession, Message, Role, SessionStatus
from dialogue.tests.conftest import in_thread
from dialogue.tests.live import Connection, customer
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("loop_pools")]


def scoped(tenant, work):
    def run():
        with tenant_scope(tenant):
            return work()

    return in_thread(run)()


async def send(connection, content, ref=1, **extra):
    await connection.send({"type": "send", "content": content, "ref": ref, **extra})


async def answered(connection, content, ref=1, **extra) -> tuple[dict, list[str], dict]:
    """Send a message; (its saved frame, the answer's deltas, answer.done)."""
    await send(connection, content, ref, **extra)
    message = await connection.expect("message", ref=ref)
    deltas = []
    while True:
        frame = await connection.next()
        if frame["type"] == "answer.delta":
            deltas.append(frame["text"])
        elif frame["type"] == "answer.done":
            return message, deltas, frame
        else:
            connection.frames.append(frame)


async def test_a_message_is_answered_as_a_stream_with_its_sources(tenant_a, llm, refund_entries):
    page = await customer(tenant_a)
    assert page.welcome["session"] is None and page.welcome["messages"] == []

    message, deltas, done = await answered(page, "退款多久到账", client_message_id="m1")

    assert message["message"]["role"] == "user" and message["client_message_id"] == "m1"
    answer = done["message"]
    assert "".join(deltas) == answer["content"] and answer["role"] == "assistant"
    titles = {source["title"] for source in answer["sources"]}
    assert titles and titles <= {entry.question for entry in refund_entries}
    saved = await scoped(tenant_a, lambda: Message.objects.get(pk=answer["id"]))
    assert saved.content == answer["content"] and saved.reply_to_id == message["message"]["id"]
    session = await page.expect("session")
    assert session["session"]["id"] == done["session"] == saved.session_id
    await page.close()


async def test_a_resent_message_gets_its_answer_with_its_sources_titles(
    tenant_a, llm, refund_entries
):
    page = await customer(tenant_a)
    _message, _deltas, first = await answered(page, "退款多久到账", client_message_id="m1")
    _message, _deltas, again = await answered(page, "退款多久到账", ref=2, client_message_id="m1")
    assert again["duplicate"] is True and again["message"]["id"] == first["message"]["id"]
    sources = again["message"]["sources"]
    assert sources and {s["title"] for s in sources} <= {e.question for e in refund_entries}
    assert sources == first["message"]["sources"]
    await page.close()


async def test_a_page_that_reconnects_gets_what_it_missed_once(tenant_a, agent_a, llm):
    page = await customer(tenant_a)
    _message, _deltas, done = await answered(page, "你好")
    session_id, last_id = done["session"], done["message"]["id"]
    await page.close()

    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session_id))
    reply = await scoped(
        tenant_a, lambda: staff.reply_add(session=session, user=agent_a, content="我是小王")
    )

    again = await customer(tenant_a, session=session_id, after=last_id)
    ids = [message["id"] for message in again.welcome["messages"]]
    assert len(ids) == len(set(ids))
    missed = [message for message in again.welcome["messages"] if message["id"] > last_id]
    assert [message["role"] for message in missed] == ["system", "agent"]
    assert missed[1]["id"] == reply.pk
    agent = next(m for m in again.welcome["messages"] if m["id"] == reply.pk)
    assert agent["role"] == "agent" and agent["author"]["name"] == "agent-a"
    assert again.welcome["session"]["agent"]["name"] == "agent-a"
    await again.close()


async def test_staff_replies_reach_the_open_page(tenant_a, agent_a, llm):
    page = await customer(tenant_a)
    _message, _deltas, done = await answered(page, "转人工")
    assert done["handed_off"] and done["session_status"] == "handed_off"
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=done["session"]))

    await scoped(tenant_a, lambda: staff.reply_add(session=session, user=agent_a, content="您好"))

    joined = await page.expect("message")
    assert joined["message"]["role"] == "system"
    reply = await page.expect("message")
    assert reply["message"]["content"] == "您好" and reply["message"]["author"]["initial"] == "A"
    handed_off = await page.expect("session")
    assert (
        handed_off["session"]["status"] == "handed_off" and handed_off["session"]["agent"] is None
    )
    claimed = await page.expect("session")
    assert claimed["session"]["agent"]["name"] == "agent-a"
    await page.close()


async def test_notes_never_reach_the_customer(tenant_a, agent_a, llm):
    page = await customer(tenant_a)
    _message, _deltas, done = await answered(page, "转人工")
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=done["session"]))
    await page.nothing(0.3)
    page.frames.clear()

    await scoped(tenant_a, lambda: staff.note_add(session=session, user=agent_a, content="内部"))

    assert await page.nothing(0.5)
    await page.close()


async def test_the_customer_hands_off_rates_and_ends(tenant_a, llm):
    page = await customer(tenant_a)
    _message, _deltas, done = await answered(page, "你好")
    assert (await page.expect("session"))["session"]["status"] == "active"  # the new one
    await page.send(
        {"type": "feedback", "message": done["message"]["id"], "thumbs": "up", "ref": 2}
    )
    await page.expect("ack", ref=2)
    await page.send({"type": "handoff", "ref": 3})
    await page.expect("ack", ref=3)
    handed = await page.expect("session")
    assert handed["session"]["status"] == "handed_off" and handed["session"]["work_order"]
    assert handed["session"]["work_order_number"].startswith("WO-")
    assert handed["session"]["agents_online"] == 0
    await page.send({"type": "end", "ref": 4})
    await page.expect("ack", ref=4)
    assert (await page.expect("session"))["session"]["status"] == "ended"
    await page.send({"type": "rate", "rating": 5, "ref": 5})
    await page.expect("ack", ref=5)
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=done["session"]))
    answer = await scoped(tenant_a, lambda: Message.objects.get(pk=done["message"]["id"]))
    assert session.status == SessionStatus.ENDED and session.satisfaction == 5
    assert answer.thumbs_up is True
    await page.send({"type": "send", "content": "还在吗", "ref": 6})
    refused = await page.expect("error", ref=6)
    assert refused["code"] == "session_ended"
    await page.close()


async def test_a_turns_thread_sensitive_work_has_a_thread_of_its_own(tenant_a, llm, monkeypatch):
    """Not the one thread the process's thread-sensitive calls share otherwise."""
    shared = await sync_to_async(threading.get_ident)()
    seen = []
    prepare = customer_module.pipeline.prepare

    async def recording(*args, **kwargs):
        seen.append(await sync_to_async(threading.get_ident)())
        return await prepare(*args, **kwargs)

    monkeypatch.setattr(customer_module.pipeline, "prepare", recording)
    page = await customer(tenant_a)
    await answered(page, "你好")
    assert len(seen) == 1 and seen[0] != shared
    await page.close()


async def test_a_message_that_cannot_be_prepared_gets_the_failure_frame(
    tenant_a, llm, monkeypatch, caplog
):
    async def broken(*args, **kwargs):
        raise RuntimeError("the store is down")

    monkeypatch.setattr(customer_module.pipeline, "prepare", broken)
    page = await customer(tenant_a)
    await send(page, "你好", ref="b")
    failed = await page.expect("error", ref="b")
    assert failed["code"] == "answer_failed"
    assert any(record.exc_info and "prepared" in record.getMessage() for record in caplog.records)
    await page.send({"type": "ping", "ref": "p"})
    await page.expect("pong", ref="p")
    await page.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ('["a list"]', "invalid"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "send"}', "invalid"),
        ('{"type": "feedback", "message": "x"}', "invalid"),
        ("x" * (MAX_FRAME_CHARS + 1), "too_large"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_goes_on(tenant_a, llm, frame, code):
    page = await customer(tenant_a)
    await page.send(frame)
    assert (await page.expect("error"))["code"] == code
    await page.send({"type": "ping", "ref": "p"})
    await page.expect("pong", ref="p")
    await page.close()


async def test_feedback_without_thumbs_or_rating_is_refused(tenant_a, llm):
    page = await customer(tenant_a)
    _message, _deltas, done = await answered(page, "你好")
    answer_id = done["message"]["id"]

    await page.send({"type": "feedback", "message": answer_id, "ref": "f"})

    refused = await page.expect("error", ref="f")
    assert refused["code"] == "invalid" and "rating" in refused["fields"]
    assert "ack" not in {frame["type"] for frame in await page.drain(0.3)}
    answer = await scoped(tenant_a, lambda: Message.objects.get(pk=answer_id))
    assert answer.thumbs_up is None and answer.rating is None
    # Thumbs without a message are still refused: a frame's feedback is on an answer.
    await page.send({"type": "feedback", "thumbs": "up", "ref": "g"})
    assert "message" in (await page.expect("error", ref="g"))["fields"]
    await page.send({"type": "no-such-frame", "ref": "h"})
    assert (await page.expect("error", ref="h"))["code"] == "unknown_type"
    await page.close()


async def test_a_bad_token_or_a_foreign_site_is_refused(tenant_a):
    page = Connection("/ws/chat/")
    assert (await page.open())[0]
    await page.send({"type": "hello", "protocol": 1, "token": "forged"})
    assert (await page.expect("error"))["code"] == "unauthenticated"
    assert await page.next() == {"type": "closed", "code": 4401}

    foreign = Connection("/ws/chat/", headers=[(b"origin", b"https://evil.example")])
    assert (await foreign.open())[0]
    token = issue_visitor_token(tenant=tenant_a, visitor_id="v")
    await foreign.send({"type": "hello", "protocol": 1, "token": token})
    assert (await foreign.expect("error"))["code"] == "forbidden"
    assert await foreign.next() == {"type": "closed", "code": 4403}

    tenant_a.widget_frame_ancestors = "https://shop.example\nhttps://*.brand.example"
    await in_thread(tenant_a.save)()
    for origin in (b"https://shop.example", b"https://www.brand.example"):
        listed = Connection("/ws/chat/", headers=[(b"origin", origin)])
        assert (await listed.open())[0]
        await listed.send({"type": "hello", "protocol": 1, "token": token})
        assert (await listed.expect("welcome"))["protocol"] == 1
        await listed.close()
    for origin in (b"http://shop.example", b"https://brand.example.evil"):
        unlisted = Connection("/ws/chat/", headers=[(b"origin", origin)])
        assert (await unlisted.open())[0]
        await unlisted.send({"type": "hello", "protocol": 1, "token": token})
        assert (await unlisted.expect("error"))["code"] == "forbidden"
        await unlisted.close()


async def test_a_page_that_says_nothing_is_closed(tenant_a, monkeypatch):
    monkeypatch.setattr(customer_module, "HELLO_TIMEOUT_SECONDS", 0.2)
    page = Connection("/ws/chat/")
    assert (await page.open())[0]
    assert await page.next(timeout=2) == {"type": "closed", "code": 4408}


async def test_a_flood_is_refused_then_disconnected(tenant_a, llm):
    page = await customer(tenant_a)
    for number in range(120):
        await page.send({"type": "ping", "ref": number})
    codes = []
    while True:
        frame = await page.next()
        if frame["type"] == "closed":
            break
        if frame["type"] == "error":
            codes.append(frame["code"])
    assert codes and set(codes) == {"rate_limited"}
    assert frame["code"] == 4429


async def test_two_pages_of_one_visitor_see_each_others_messages(tenant_a, llm):
    first = await customer(tenant_a)
    _message, _deltas, done = await answered(first, "第一条")
    second = await customer(tenant_a, session=done["session"], after=done["message"]["id"])

    await answered(first, "第二条", ref=2)

    seen = [(await second.expect("message"))["message"]["role"] for _ in range(2)]
    assert seen == ["user", "assistant"]
    await first.close()
    await second.close()


async def test_a_visitor_cannot_resume_someone_elses_conversation(tenant_a, tenant_b, llm):
    owner = await customer(tenant_a, "visitor-1")
    _message, _deltas, done = await answered(owner, "我的问题")
    other = await customer(tenant_a, "visitor-2", session=done["session"])
    assert other.welcome["session"] is None and other.welcome["messages"] == []
    elsewhere = await customer(tenant_b, "visitor-1", session=done["session"])
    assert elsewhere.welcome["session"] is None
    await asyncio.gather(owner.close(), other.close(), elsewhere.close())


async def test_the_visitor_limit_applies_to_websocket_messages(tenant_a, llm, whole_minute):
    get_config().set("dialogue.visitor_rate_per_minute", 1)
    page = await customer(tenant_a)
    await answered(page, "一")
    await send(page, "二", ref=2)
    refused = await page.expect("error", ref=2)
    assert refused["code"] == "throttled" and refused["fields"]["retry_after"] >= 0
    users = await scoped(tenant_a, lambda: Message.objects.filter(role=Role.USER).count())
    assert users == 1
    await page.close()


async def test_a_message_after_the_session_ended_elsewhere_is_refused(tenant_a, llm):
    page = await customer(tenant_a)
    _message, _deltas, done = await answered(page, "你好")
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=done["session"]))
    await scoped(tenant_a, lambda: services.session_end(session=session))
    await page.expect("session")
    await send(page, "还在吗", ref=9)
    assert (await page.expect("error", ref=9))["code"] == "session_ended"
    await page.close()


async def test_an_answer_the_page_left_is_finished_and_found_on_resume(
    tenant_a, llm, refund_entries
):
    llm.configure(token_delay_ms=60)
    page = await customer(tenant_a)
    await send(page, "退款多久到账", client_message_id="c-9")
    question = (await page.expect("message", ref=1))["message"]
    assert question["client_message_id"] == "c-9"
    session_id = (await page.expect("session"))["session"]["id"]
    await page.expect("answer.delta")
    await page.close()  # mid-answer

    again = await customer(tenant_a, session=session_id, after=question["id"])
    resumed = [m for m in again.welcome["messages"] if m["role"] == "assistant"]
    answer = resumed[0] if resumed else (await again.expect("message", timeout=10))["message"]
    assert answer["reply_to"] == question["id"] and answer["error_type"] == ""
    assert again.welcome["messages"][0]["client_message_id"] == "c-9"
    saved = await scoped(
        tenant_a, lambda: list(Message.objects.filter(role=Role.ASSISTANT).values("id", "content"))
    )
    assert saved == [{"id": answer["id"], "content": answer["content"]}]
    assert answer["sources"] and answer["content"].startswith("Stub answer")
    await again.close()
