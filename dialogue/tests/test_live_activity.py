"""Queue lines for the desks (dialogue.live.activity) from sync code with no event loop
of its own: a reply through the REST API, as another system sends it."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from dialogue.live.groups import desk_group
from dialogue.models import Message, Role
from dialogue.tests.conftest import visitor_client
from dialogue.tests.test_api import SESSIONS, open_session, send
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


def listening(group: str) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)
    return channel


def received(channel: str, timeout: float = 5) -> dict:
    async def receive() -> dict:
        async with asyncio.timeout(timeout):
            return await get_channel_layer().receive(channel)

    return async_to_sync(receive)()


def test_a_reply_through_the_api_reaches_the_desks_queue_at_once(tenant_a, tenant_b, client_a, llm):
    desk_a = listening(desk_group(tenant_a.pk))
    desk_b = listening(desk_group(tenant_b.pk))
    visitor = visitor_client(tenant_a)
    session_id = open_session(visitor)
    assert send(visitor, session_id, "我要转人工").status_code in (200, 201)
    while received(desk_a)["type"] != "live.session":
        pass  # the hand-off's own lines and the session it changed

    response = client_a.post(f"{SESSIONS}{session_id}/reply/", {"content": "您好，我是客服小王"})
    assert response.status_code == 201

    with tenant_scope(tenant_a):
        reply = Message.objects.get(session_id=session_id, role=Role.AGENT)
    event = received(desk_a)
    while event["type"] != "live.activity" or reply.pk not in event["lines"][0]["messages"]:
        event = received(desk_a)
    [line] = event["lines"]
    assert line["session"] == session_id
    assert line["last_message"] == {
        "id": reply.pk,
        "role": "agent",
        "content": "您好，我是客服小王",
        "created_at": reply.created_at.isoformat(),
    }
    with pytest.raises(TimeoutError):
        received(desk_b, timeout=0.3)
