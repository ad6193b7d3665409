"""Live events: what changed in a conversation, sent to the connections that show it
(the groups: `dialogue.live.groups`).

A message goes to its conversation's group at once, and, once a person has the
conversation, to the tenant's desks as a line of their queue, in batches
(`dialogue.live.activity`); a change of the conversation
itself (handed off, claimed, ended) goes to both groups at once. An event has an `id` (a
connection in two groups gets it once) and carries both views of what changed
(`dialogue.live.frames`): each consumer sends its own, and a customer never receives
what only staff may see. Writes publish once their transaction commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction

from accounts.models import User
from accounts.presence import agents_online
from dialogue import selectors
from dialogue.live import activity, frames
from dialogue.live.groups import apublish, desk_group, session_group
from dialogue.models import ChatSession, Message, SessionStatus


def message_event(message: Message, titles: dict[int, str]) -> dict[str, Any]:
    return {
        "type": "live.message",
        "id": uuid.uuid4().hex,
        "session": message.session_id,
        "customer": frames.customer_message(message, titles),
        "staff": frames.staff_message(message, titles),
    }


async def apublish_message(
    message: Message, tenant_id: int, titles: dict[int, str], *, to_desks: bool
) -> None:
    """The message to its conversation now, and, `to_desks` (a person has the
    conversation), to the desks' queues with the next batch."""
    if to_desks:
        activity.add(tenant_id, message)
    await apublish([session_group(message.session_id)], message_event(message, titles))


def publish_message(message: Message, session: ChatSession) -> None:
    """From a write: the message, once committed (its author loaded)."""
    titles = selectors.citation_titles([message])
    to_desks = session.status == SessionStatus.HANDED_OFF
    transaction.on_commit(
        lambda: async_to_sync(apublish_message)(
            message, session.tenant_id, titles, to_desks=to_desks
        ),
        robust=True,
    )


def session_event(session: ChatSession) -> dict[str, Any]:
    """The session as it is now (its work order and assignee loaded by the caller)."""
    last = session.messages.select_related("author").order_by("-created_at", "-id").first()
    return {
        "type": "live.session",
        "id": uuid.uuid4().hex,
        "session": session.pk,
        "customer": frames.customer_session(
            session, agents_online=agents_online(session.tenant_id)
        ),
        "queue": frames.queue_item(session, last),
    }


def publish_session(session: ChatSession) -> None:
    """From a write: the session's new state, to its conversation and the tenant's desks."""
    fresh = ChatSession.objects.select_related("work_order", "assignee").get(pk=session.pk)
    groups = [session_group(session.pk), desk_group(session.tenant_id)]
    event = session_event(fresh)
    transaction.on_commit(lambda: async_to_sync(apublish)(groups, event), robust=True)


def typing_event(session_id: int, *, who: str, user: User | None) -> dict[str, Any]:
    return {
        "type": "live.typing",
        "id": uuid.uuid4().hex,
        "session": session_id,
        "who": who,
        "person": frames.person(user),
    }
