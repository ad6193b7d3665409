"""Live events: what changed in a conversation, sent to the connections that show it.

Groups on the channel layer (Redis in production, so any process reaches any
connection):

- `chat.session.<id>`: the customer's page(s) of the conversation and the desks that
  opened it;
- `chat.desk.<tenant id>`: every desk of the tenant (its queue of conversations that need
  a person).

An event has an `id` (a connection in two groups gets it once) and carries both views
of what changed (`dialogue.live.frames`): each consumer
sends its own, and a customer never receives what only staff may see. Writes publish
once their transaction commits; a channel layer that fails is logged and never undoes
a write.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from accounts.models import User
from accounts.presence import agents_online
from dialogue import selectors
from dialogue.live import frames
from dialogue.models import ChatSession, Message, SessionStatus

logger = logging.getLogger(__name__)


def session_group(session_id: int) -> str:
    return f"chat.session.{session_id}"


def desk_group(tenant_id: int) -> str:
    return f"chat.desk.{tenant_id}"


async def apublish(groups: list[str], event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    for group in groups:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.exception("Live event %s not sent to %s.", event["type"], group)


def publish_on_commit(groups: list[str], event: dict[str, Any]) -> None:
    transaction.on_commit(lambda: async_to_sync(apublish)(groups, event), robust=True)


def message_event(message: Message, titles: dict[int, str]) -> dict[str, Any]:
    return {
        "type": "live.message",
        "id": uuid.uuid4().hex,
        "session": message.session_id,
        "customer": frames.customer_message(message, titles),
        "staff": frames.staff_message(message, titles),
    }


def message_groups(session: ChatSession) -> list[str]:
    """A message goes to its conversation, and to the desks once a person has it."""
    groups = [session_group(session.pk)]
    if session.status == SessionStatus.HANDED_OFF:
        groups.append(desk_group(session.tenant_id))
    return groups


def publish_message(message: Message, session: ChatSession) -> None:
    """From a write: the message, once committed (its author loaded)."""
    event = message_event(message, selectors.citation_titles([message]))
    publish_on_commit(message_groups(session), event)


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
    publish_on_commit(
        [session_group(session.pk), desk_group(session.tenant_id)], session_event(fresh)
    )


def typing_event(session_id: int, *, who: str, user: User | None) -> dict[str, Any]:
    return {
        "type": "live.typing",
        "id": uuid.uuid4().hex,
        "session": session_id,
        "who": who,
        "person": frames.person(user),
    }
