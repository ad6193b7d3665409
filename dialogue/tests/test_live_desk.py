"""The staff desk's WebSocket (/ws/desk/) with customers' pages, two tenants on one
channel layer."""

import asyncio

import pytest

from accounts.presence import agents_online
from conftest import make_user
from dialogue import drafts, services
from dialogue.models import ChatSession, Message, Role, SessionStatus
from dialogue.tests.conftest import in_thread
from dialogue.tests.live import Connection, customer, desk
from dialogue.tests.test_live_customer import answered
from helpdesk.roles import Role as StaffRole
from helpdesk.tenancy import tenant_scope
from knowledge.models import WordingProposal
from knowledge.services import entry_create
from workorders.models import WorkOrderEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("loop_pools")]


def scoped(tenant, work):
    def run():
        with tenant_scope(tenant):
            return work()

    return in_thread(run)()


async def handed_off_page(tenant, visitor_id="visitor-1"):
    page = await customer(tenant, visitor_id)
    _message, _deltas, done = await answered(page, "我要转人工")
    assert done["handed_off"]
    return page, done["session"]


async def test_a_new_hand_off_reaches_the_tenants_desks_only(
    tenant_a, tenant_b, agent_a, agent_b, llm
):
    desk_a, desk_b = await desk(agent_a), await desk(agent_b)
    assert desk_a.welcome["queue"] == [] and desk_a.welcome["acts"] is True

    page, session_id = await handed_off_page(tenant_a)

    item = (await desk_a.expect("session"))["session"]
    assert item["id"] == session_id and item["status"] == "handed_off"
    assert item["work_order"]["number"] and item["assignee"] is None
    assert {frame["type"] for frame in await desk_b.drain()} <= {"presence"}
    queue = await _queue(desk_a, "open")
    assert [entry["id"] for entry in queue] == [session_id]
    assert await _queue(desk_b, "all") == []
    await asyncio.gather(page.close(), desk_a.close(), desk_b.close())


async def test_queue_lines_reach_the_tenants_desks_in_batches(
    tenant_a, tenant_b, agent_a, agent_b, llm
):
    """A desk that has not opened a conversation gets no message of it, only its queue
    line: a batch counts each message once and names the latest."""
    page, session_id = await handed_off_page(tenant_a)
    desk_a, desk_b = await desk(agent_a), await desk(agent_b)
    for number in range(3):
        await page.send({"type": "send", "content": f"还在吗{number}", "ref": number})
        await page.expect("message", ref=number)
    saved = await scoped(
        tenant_a,
        lambda: list(
            Message.objects.filter(session_id=session_id, role=Role.USER)
            .order_by("id")
            .values_list("id", flat=True)
        ),
    )

    counted: list[int] = []  # the hand-off's own messages may still come first
    while saved[-1] not in counted:
        frame = await desk_a.expect("activity")
        lines = [line for line in frame["lines"] if line["session"] == session_id]
        counted += [message for line in lines for message in line["messages"]]
    assert set(saved[-3:]) <= set(counted) and len(set(counted)) == len(counted)
    assert lines[-1]["last_message"]["content"] == "还在吗2"
    assert lines[-1]["last_message"]["id"] == saved[-1]
    assert not [frame for frame in await desk_a.drain() if frame["type"] == "message"]
    assert {frame["type"] for frame in await desk_b.drain()} <= {"presence"}
    await asyncio.gather(page.close(), desk_a.close(), desk_b.close())


async def _queue(connection, view):
    await connection.send({"type": "queue", "view": view, "ref": view})
    return (await connection.expect("queue", ref=view))["items"]


async def test_one_claim_wins_and_the_customer_sees_who_answers(tenant_a, agent_a, llm):
    other = await in_thread(make_user)(tenant_a, StaffRole.AGENT, "agent-a2")
    page, session_id = await handed_off_page(tenant_a)
    first, second = await desk(agent_a), await desk(other)

    await first.send({"type": "claim", "session": session_id, "ref": "a"})
    await second.send({"type": "claim", "session": session_id, "ref": "b"})
    answers = [
        await first.expect(("ack", "error"), ref="a"),
        await second.expect(("ack", "error"), ref="b"),
    ]

    assert sorted(frame["type"] for frame in answers) == ["ack", "error"]
    refused = next(frame for frame in answers if frame["type"] == "error")
    assert refused["code"] == "conflict"
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session_id))
    assert session.assignee_id in (agent_a.pk, other.pk)
    joined = await page.expect("message")
    assert joined["message"]["role"] == "system"
    await asyncio.gather(page.close(), first.close(), second.close())


async def test_a_live_reply_typing_and_a_note(tenant_a, agent_a, llm, desk_replies):
    page, session_id = await handed_off_page(tenant_a)
    agent = await desk(agent_a)
    await agent.send({"type": "open", "session": session_id, "ref": "o"})
    conversation = await agent.expect("conversation", ref="o")
    assert [m["role"] for m in conversation["messages"]] == ["user", "system"]
    assert conversation["work_order"]["url"].startswith("/admin/workorders/workorder/")

    await agent.send({"type": "typing", "session": session_id})
    typing = await page.expect("typing")
    assert typing["person"]["name"] == "agent-a"
    await page.send({"type": "typing"})
    assert (await agent.expect("typing"))["session"] == session_id

    answer = "您好，我来帮您"
    await agent.send({"type": "reply", "session": session_id, "content": answer, "ref": 1})
    await agent.expect("ack", ref=1)
    reply = await page.expect("message", timeout=5)
    while reply["message"]["role"] != "agent":
        reply = await page.expect("message")
    assert reply["message"]["content"] == answer

    await agent.send({"type": "note", "session": session_id, "content": "客户很着急", "ref": 2})
    await agent.expect("ack", ref=2)
    note = await agent.expect("message")
    while note["message"]["role"] != "note":
        note = await agent.expect("message")
    page.frames = [f for f in page.frames if f["type"] != "session"]
    assert await page.nothing(0.5)

    events = await scoped(
        tenant_a,
        lambda: list(WorkOrderEvent.objects.filter(kind="comment").values_list("body", "internal")),
    )
    assert (answer, False) in events and ("客户很着急", True) in events

    await page.send({"type": "send", "content": "好的，谢谢", "ref": 3})
    customer_message = await agent.expect("message")
    while customer_message["message"]["role"] != "user":
        customer_message = await agent.expect("message")
    assert customer_message["message"]["content"] == "好的，谢谢"
    await asyncio.gather(page.close(), agent.close())


async def test_release_transfer_and_end(tenant_a, agent_a, admin_a, llm):
    page, session_id = await handed_off_page(tenant_a)
    agent = await desk(agent_a)
    await agent.send({"type": "claim", "session": session_id, "ref": 1})
    await agent.expect("ack", ref=1)
    await agent.send({"type": "transfer", "session": session_id, "to": admin_a.pk, "ref": 2})
    await agent.expect("ack", ref=2)
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session_id))
    assert session.assignee_id == admin_a.pk

    await agent.send({"type": "release", "session": session_id, "ref": 3})
    refused = await agent.expect("error", ref=3)
    assert refused["code"] == "conflict"  # the administrator has it now

    manager = await desk(admin_a)
    await manager.send({"type": "release", "session": session_id, "ref": 4})
    await manager.expect("ack", ref=4)
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session_id))
    assert session.status == SessionStatus.ACTIVE and session.assignee_id is None

    _message, _deltas, done = await answered(page, "现在还有问题", ref=9)
    assert done["message"]["role"] == "assistant"

    await manager.send({"type": "end", "session": session_id, "ref": 5})
    await manager.expect("ack", ref=5)
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session_id))
    assert session.status == SessionStatus.ENDED
    await asyncio.gather(page.close(), agent.close(), manager.close())


async def test_viewers_read_but_do_not_act(tenant_a, viewer_a, llm):
    page, session_id = await handed_off_page(tenant_a)
    viewer = await desk(viewer_a)
    assert viewer.welcome["acts"] is False
    await viewer.send({"type": "open", "session": session_id, "ref": 1})
    await viewer.expect("conversation", ref=1)
    await viewer.send({"type": "claim", "session": session_id, "ref": 2})
    assert (await viewer.expect("error", ref=2))["code"] == "forbidden"
    await viewer.send({"type": "reply", "session": session_id, "content": "hi", "ref": 3})
    assert (await viewer.expect("error", ref=3))["code"] == "forbidden"
    users = await scoped(tenant_a, lambda: Message.objects.filter(role=Role.AGENT).count())
    assert users == 0
    await asyncio.gather(page.close(), viewer.close())


async def test_another_tenants_conversation_does_not_exist_for_a_desk(
    tenant_a, tenant_b, agent_b, llm
):
    page, session_id = await handed_off_page(tenant_a)
    other = await desk(agent_b)
    for kind in ("open", "claim"):
        await other.send({"type": kind, "session": session_id, "ref": kind})
        assert (await other.expect("error", ref=kind))["code"] == "not_found"
    await asyncio.gather(page.close(), other.close())


async def test_typing_on_another_tenants_conversation_reaches_nobody(
    tenant_a, tenant_b, agent_a, agent_b, llm
):
    page, session_id = await handed_off_page(tenant_a)
    own = await desk(agent_a)
    await own.send({"type": "open", "session": session_id, "ref": "o"})
    await own.expect("conversation", ref="o")
    page.frames.clear()
    await page.drain()
    other = await desk(agent_b)
    await own.drain()

    await other.send({"type": "typing", "session": session_id, "ref": "t"})

    assert await page.nothing(0.5)
    assert {frame["type"] for frame in await other.drain()} <= {"presence"}
    assert [frame["type"] for frame in await own.drain()] == []
    # The tenant's own desk, which opened the conversation, still reaches the page.
    await own.send({"type": "typing", "session": session_id})
    assert (await page.expect("typing"))["person"]["name"] == "agent-a"
    await asyncio.gather(page.close(), own.close(), other.close())


async def test_anonymous_and_customers_cannot_open_the_desk(tenant_a):
    anonymous = Connection("/ws/desk/", headers=[(b"origin", b"http://testserver")])
    connected, _code = await anonymous.open()
    assert not connected


async def test_presence_and_search_and_drafts(tenant_a, agent_a, llm, refund_entries):
    assert await in_thread(agents_online)(tenant_a.pk) == 0
    agent = await desk(agent_a)
    assert await in_thread(agents_online)(tenant_a.pk) == 1
    page = await customer(tenant_a)
    assert page.welcome["agents_online"] == 1

    await agent.send({"type": "presence", "presence": "away", "ref": 1})
    await agent.expect("ack", ref=1)
    staff = (await agent.expect("presence"))["staff"]
    while staff[0]["presence"] != "away":
        staff = (await agent.expect("presence"))["staff"]
    assert await in_thread(agents_online)(tenant_a.pk) == 0

    await agent.send({"type": "search", "q": "退款", "ref": 2})
    hits = (await agent.expect("search.results", ref=2))["hits"]
    assert {hit["id"] for hit in hits} >= {entry.pk for entry in refund_entries}

    _message, _deltas, done = await answered(page, "退款多久到账")
    await agent.send({"type": "draft", "session": done["session"], "ref": 3})
    draft = await agent.expect("draft", ref=3)
    assert draft["text"].startswith("Stub answer")
    assert llm.requests()[-1]["messages"][0]["content"].startswith("你是客服坐席的写作助手")

    await agent.close()
    assert await in_thread(agents_online)(tenant_a.pk) == 0
    await page.close()


async def test_a_draft_that_fails_is_refused_and_the_desk_stays_open(
    tenant_a, agent_a, llm, monkeypatch, caplog
):
    page = await customer(tenant_a)
    _message, _deltas, done = await answered(page, "退款多久到账")
    agent = await desk(agent_a)

    def broken(*args, **kwargs):
        raise RuntimeError("the search is down")

    monkeypatch.setattr(drafts, "search", broken)
    await agent.send({"type": "draft", "session": done["session"], "ref": 1})

    refused = await agent.expect("error", ref=1)
    assert refused["code"] == "unavailable"
    assert any(record.exc_info and "draft" in record.getMessage() for record in caplog.records)
    await agent.send({"type": "ping", "ref": "p"})
    await agent.expect("pong", ref="p")
    await asyncio.gather(page.close(), agent.close())


# teaching the assistant -----------------------------------------------------------------


@pytest.fixture
def taught(tenant_a, tenant_b):
    """A conversation of tenant A where the assistant answered a question wrongly, the
    right entry in tenant A, and an entry of tenant B."""

    def in_a():
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        question = services.message_add_user(session=session, content="钱什么时候能退回来")
        answer = services.message_add_answer(
            session=session, reply_to=question, content="请在订单页申请发票。"
        )
        entry = entry_create(question="退款多久到账？", answer="1-3 个工作日到账。")
        return session.pk, question.pk, answer.pk, entry

    def in_b():
        return entry_create(question="乙公司的退款", answer="乙公司的答案。")

    with tenant_scope(tenant_a):
        made = in_a()
    with tenant_scope(tenant_b):
        return (*made, in_b())


async def proposals(tenant):
    return await scoped(
        tenant, lambda: list(WordingProposal.objects.values_list("text", "reason", "entry_id"))
    )


async def test_a_reply_built_on_an_entry_proposes_the_customers_question(
    tenant_a, tenant_b, agent_a, taught
):
    session_id, _question, _answer, entry, other = taught
    agent = await desk(agent_a)

    reply = {"type": "reply", "session": session_id, "content": "好的"}
    await agent.send({**reply, "entry": other.pk, "ref": 1})
    assert (await agent.expect("error", ref=1))["code"] == "not_found"
    assert await scoped(tenant_a, lambda: Message.objects.filter(role=Role.AGENT).count()) == 0
    assert await proposals(tenant_a) == []

    await agent.send({**reply, "content": entry.answer, "entry": entry.pk, "ref": 2})
    await agent.expect("ack", ref=2)
    assert await proposals(tenant_a) == [("钱什么时候能退回来", "handoff_resolved", entry.pk)]
    assert await proposals(tenant_b) == []
    await agent.close()


async def test_a_wrong_answer_corrected_on_the_desk(
    tenant_a, tenant_b, agent_a, agent_b, viewer_a, taught
):
    session_id, question, answer, entry, other = taught
    agent, stranger, viewer = await desk(agent_a), await desk(agent_b), await desk(viewer_a)
    await agent.send({"type": "open", "session": session_id, "ref": "o"})
    await agent.expect("conversation", ref="o")

    async def correct(connection, ref, message=answer, entry_id=entry.pk):
        frame = {"type": "correct", "session": session_id, "message": message, "entry": entry_id}
        await connection.send({**frame, "ref": ref})
        return await connection.expect(("ack", "error"), ref=ref)

    assert (await correct(viewer, 1))["code"] == "forbidden"
    assert (await correct(stranger, 2))["code"] == "not_found"  # tenant A's conversation
    assert (await correct(agent, 3, message=question))["code"] == "not_an_answer"
    assert (await correct(agent, 4, entry_id=other.pk))["code"] == "not_found"
    assert (await correct(agent, 5, message=answer + 100))["code"] == "not_found"
    assert await scoped(tenant_a, lambda: Message.objects.filter(role=Role.NOTE).count()) == 0
    assert await proposals(tenant_a) == []

    done = await correct(agent, 6)
    assert done["type"] == "ack" and done["proposal"]["text"] == "钱什么时候能退回来"
    note = (await agent.expect("message"))["message"]
    assert note["role"] == "note" and note["reply_to"] == answer
    assert entry.question in note["content"]
    assert await proposals(tenant_a) == [("钱什么时候能退回来", "answer_corrected", entry.pk)]
    assert await proposals(tenant_b) == []

    again = await correct(agent, 7)
    assert again["type"] == "ack" and again["proposal"] is None
    await asyncio.gather(agent.close(), stranger.close(), viewer.close())
