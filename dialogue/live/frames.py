"""What the live connections are sent: a message or a session as the customer sees it,
and as staff see it (JSON-ready dicts; see docs/live-protocol.md).

Nothing here reads the database: the caller hands in what a frame shows (the message's
author already loaded, the titles of the entries it cites).
"""

from __future__ import annotations

from typing import Any

from accounts.models import User
from dialogue.models import CUSTOMER_ROLES, ChatSession, Message, Role

PREVIEW_CHARS = 120


def person(user: User | None) -> dict[str, Any] | None:
    """A staff member as the customer may see them: a name and an initial for the avatar."""
    if user is None:
        return None
    name = user.get_full_name() or user.username
    return {"id": user.pk, "name": name, "initial": name[:1].upper()}


def sources(message: Message, titles: dict[int, str]) -> list[dict[str, Any]]:
    return [{"id": entry_id, "title": titles.get(entry_id, "")} for entry_id in message.citations]


def customer_message(message: Message, titles: dict[int, str]) -> dict[str, Any] | None:
    """The message for the customer's page; None for what the customer never sees."""
    if message.role not in CUSTOMER_ROLES:
        return None
    return {
        "id": message.pk,
        "role": message.role,
        "content": message.content,
        "created_at": message.created_at.isoformat(),
        "reply_to": message.reply_to_id,
        "sources": sources(message, titles),
        "low_confidence": message.low_confidence,
        "kb_only": message.kb_only,
        "error_type": message.error_type,
        "thumbs_up": message.thumbs_up,
        "rating": message.rating,
        "author": person(message.author) if message.author_id else None,
        # The page's own id of a customer's message, so a page that resends a message it
        # is not sure arrived can tell it from the saved one.
        "client_message_id": message.channel_message_id if message.role == Role.USER else "",
    }


def staff_message(message: Message, titles: dict[int, str]) -> dict[str, Any]:
    return {
        "id": message.pk,
        "session": message.session_id,
        "role": message.role,
        "content": message.content,
        "created_at": message.created_at.isoformat(),
        "reply_to": message.reply_to_id,
        "sources": sources(message, titles),
        "confidence": message.confidence,
        "low_confidence": message.low_confidence,
        "kb_only": message.kb_only,
        "error_type": message.error_type,
        "thumbs_up": message.thumbs_up,
        "rating": message.rating,
        "author": person(message.author) if message.author_id else None,
    }


def customer_session(session: ChatSession, *, agents_online: int) -> dict[str, Any]:
    """The conversation as its customer sees it (its work order and assignee loaded)."""
    return {
        "id": session.pk,
        "status": session.status,
        "work_order": session.work_order_id,
        # The reference a customer can quote to staff.
        "work_order_number": session.work_order.number if session.work_order_id else None,
        "agent": person(session.assignee) if session.assignee_id else None,
        "agents_online": agents_online,
        "satisfaction": session.satisfaction,
    }


def queue_item(session: ChatSession, last: Message | None) -> dict[str, Any]:
    """A conversation in the desk's queue (its work order and assignee loaded)."""
    work_order = session.work_order if session.work_order_id else None
    return {
        "id": session.pk,
        "channel": session.channel,
        "customer": session.external_user_id,
        "status": session.status,
        "handoff_reason": session.handoff_reason,
        "assignee": person(session.assignee) if session.assignee_id else None,
        "work_order": None
        if work_order is None
        else {"id": work_order.pk, "number": work_order.number, "status": work_order.status},
        "handed_off_at": session.handed_off_at.isoformat() if session.handed_off_at else None,
        "last_activity_at": session.last_activity_at.isoformat(),
        "message_count": session.message_count,
        "last_message": None if last is None else message_preview(last),
    }


def message_preview(message: Message) -> dict[str, Any]:
    """A message as a queue line shows it."""
    return {
        "id": message.pk,
        "role": message.role,
        "content": message.content[:PREVIEW_CHARS],
        "created_at": message.created_at.isoformat(),
    }
