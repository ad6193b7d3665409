"""The desk's replies with both implementations (dialogue.live.replies): what they save,
what they publish and what they refuse, two tenants on one channel layer."""

import asyncio

import pytest

from conftest import make_user
from dialogue.models import ChatSession, Message, Role, SessionStatus
from dialogue.tests.conftest import in_thread
from dialogue.tests.live import desk
from dialogue.tests.test_live_desk import handed_off_page, scoped
from helpdesk.roles import Role as StaffRole
from workorders.models import WorkOrder, WorkOrderEvent

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("loop_pools", "desk_replies"),
]


async def reply(connection, session_id, content, ref):
    await connection.send({"type": "reply", "session": session_id, "content": content, "ref": ref})
    return await connection.expect(("ack", "error"), ref=ref)


async def page_replies(page, count):
    contents = []
    while len(contents) < count:
        frame = await page.expect("message")
        if frame["message"]["role"] == "agent":
            contents.append(frame["message"]["content"])
    return contents


async def test_replies_are_saved_timed_and_published_alike(tenant_a, agent_a, llm):
    page, session_id = await handed_off_page(tenant_a)
    agent = await desk(agent_a)
    await agent.send({"type": "open", "session": session_id, "ref": "o"})
    await agent.expect("conversation", ref="o")

    # The first claims the conversation; the others are the agent's own.
    for number, content in enumerate(["您好", "请稍等", "已为您处理"]):
        assert (await reply(agent, session_id, content, number))["type"] == "ack"
    assert await page_replies(page, 3) == ["您好", "请稍等", "已为您处理"]
    seen = [f["message"]["content"] for f in agent.frames if f["type"] == "message"]
    while len([c for c in seen if c in ("您好", "请稍等", "已为您处理")]) < 3:
        seen.append((await agent.expect("message"))["message"]["content"])

    def saved():
        session = ChatSession.objects.get(pk=session_id)
        messages = list(Message.objects.filter(session=session).order_by("id"))
        work_order = WorkOrder.objects.get(pk=session.work_order_id)
        comments = list(
            WorkOrderEvent.objects.filter(
                work_order=work_order, kind="comment", actor__isnull=False
            ).order_by("id")
        )
        return session, messages, work_order, comments

    session, messages, work_order, comments = await scoped(tenant_a, saved)
    assert session.assignee_id == agent_a.pk and session.status == SessionStatus.HANDED_OFF
    assert session.message_count == len(messages)
    assert session.last_activity_at == messages[-1].created_at
    agent_messages = [m for m in messages if m.role == Role.AGENT]
    assert [m.content for m in agent_messages] == ["您好", "请稍等", "已为您处理"]
    assert {m.author_id for m in agent_messages} == {agent_a.pk}
    assert [(c.body, c.internal, c.actor_id) for c in comments] == [
        ("您好", False, agent_a.pk),
        ("请稍等", False, agent_a.pk),
        ("已为您处理", False, agent_a.pk),
    ]
    assert work_order.first_response_at == comments[0].created_at
    assert work_order.updated_at >= comments[-1].created_at
    await asyncio.gather(page.close(), agent.close())


async def test_refusals_are_alike(tenant_a, tenant_b, agent_a, agent_b, llm):
    other = await in_thread(make_user)(tenant_a, StaffRole.AGENT, "agent-a2")
    page, session_id = await handed_off_page(tenant_a)
    owner, colleague, stranger = await desk(agent_a), await desk(other), await desk(agent_b)
    assert (await reply(owner, session_id, "我来处理", 1))["type"] == "ack"

    refused = await reply(colleague, session_id, "我也来", 2)
    assert refused["type"] == "error" and refused["code"] == "conflict"
    refused = await reply(stranger, session_id, "别的租户", 3)
    assert refused["type"] == "error" and refused["code"] == "not_found"
    refused = await reply(owner, 10**9, "没有这个会话", 4)
    assert refused["type"] == "error" and refused["code"] == "not_found"

    await owner.send({"type": "end", "session": session_id, "ref": 5})
    await owner.expect("ack", ref=5)
    refused = await reply(owner, session_id, "已结束", 6)
    assert refused["type"] == "error" and refused["code"] == "session_ended"

    def agent_replies():
        return list(
            Message.objects.filter(session_id=session_id, role=Role.AGENT).values_list(
                "content", flat=True
            )
        )

    assert await scoped(tenant_a, agent_replies) == ["我来处理"]
    assert await scoped(tenant_b, lambda: Message.objects.count()) == 0
    await asyncio.gather(page.close(), owner.close(), colleague.close(), stranger.close())
