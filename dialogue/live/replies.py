"""Saving the desk's `reply`: one job, two implementations behind one interface, chosen by
the entry point (the desk consumer) as the chat chooses its turn store.

- `OrmReplies`: `dialogue.staff.reply_add` in a worker thread.
- `NativeReplies` (PostgreSQL): the steady state of a conversation, an agent answering
  one they already have, in one statement on the async pool (`helpdesk.async_db`): the
  session locked and checked (the tenant's, not ended, the agent's own, on a channel with
  no deliverer of its own), the message saved, the session touched, the reply added to the
  work order's timeline (its first response included). No worker thread, no ORM: a busy
  team's replies cost the desk's process a fraction of the CPU. Everything else (the first
  reply, which claims; a reply built on a knowledge entry; an administrator answering
  someone else's conversation; a Feishu conversation; an ended or unknown one) is the ORM
  code's, which also says why it refuses. The desk's tests run against both.
"""

from __future__ import annotations

from functools import cache as memoised
from typing import Protocol

from django.conf import settings

from accounts.models import User
from dialogue import staff
from dialogue.live import events, queries
from dialogue.live.connection import in_worker_thread
from dialogue.models import ChatSession, Message, Role, SessionStatus
from helpdesk import async_db
from helpdesk.async_db import quoted
from knowledge.models import KnowledgeEntry
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.rules import MAX_COMMENT_LENGTH


class Replies(Protocol):
    async def reply(
        self, *, session_id: int, user: User, content: str, entry: KnowledgeEntry | None
    ) -> None:
        """Save and publish the agent's reply; raises what `staff.reply_add` raises, and
        `queries.NotFound` for a conversation the tenant does not have."""


def _reply_add(session_id: int, user: User, content: str, entry: KnowledgeEntry | None) -> None:
    staff.reply_add(
        session=queries.desk_session(session_id), user=user, content=content, entry=entry
    )


class OrmReplies:
    async def reply(
        self, *, session_id: int, user: User, content: str, entry: KnowledgeEntry | None
    ) -> None:
        await in_worker_thread(_reply_add, session_id, user, content, entry)


@memoised
def _reply_sql(message_columns: tuple[str, ...], event_columns: tuple[str, ...]) -> str:
    session_table = quoted(ChatSession._meta.db_table)
    event_values = ", ".join(
        "s.work_order_id" if c == "work_order_id" else "%s" for c in event_columns
    )
    return f"""
        WITH s AS (
            SELECT id, work_order_id FROM {session_table}
             WHERE id = %s AND tenant_id = %s AND status <> %s AND assignee_id = %s
               AND NOT (channel = ANY(%s))
               FOR UPDATE
        ), m AS (
            INSERT INTO {quoted(Message._meta.db_table)}
                   ({", ".join(quoted(c) for c in message_columns)})
            SELECT {", ".join(["%s"] * len(message_columns))} FROM s
            RETURNING id
        ), touched AS (
            UPDATE {session_table} AS c
               SET message_count = c.message_count + 1, last_activity_at = %s
              FROM s WHERE c.id = s.id
        ), event AS (
            INSERT INTO {quoted(WorkOrderEvent._meta.db_table)}
                   ({", ".join(quoted(c) for c in event_columns)})
            SELECT {event_values} FROM s WHERE s.work_order_id IS NOT NULL
        ), work_order AS (
            UPDATE {quoted(WorkOrder._meta.db_table)} AS w
               SET updated_at = %s, first_response_at = COALESCE(w.first_response_at, %s)
              FROM s WHERE w.id = s.work_order_id AND w.tenant_id = %s
        )
        SELECT id FROM m
    """


class NativeReplies:
    def __init__(self) -> None:
        self._orm = OrmReplies()

    async def reply(
        self, *, session_id: int, user: User, content: str, entry: KnowledgeEntry | None
    ) -> None:
        body = content.strip()
        if entry is not None or not body or len(body) > MAX_COMMENT_LENGTH:
            await self._orm.reply(session_id=session_id, user=user, content=content, entry=entry)
            return
        message = await _save(session_id, user, content, body)
        if message is None:
            await self._orm.reply(session_id=session_id, user=user, content=content, entry=entry)
            return
        await events.apublish_message(message, user.tenant_id, titles={}, to_desks=True)


async def _save(session_id: int, user: User, content: str, body: str) -> Message | None:
    """The reply saved, or None when this conversation is not the steady state's."""
    message = Message(
        tenant_id=user.tenant_id,
        session_id=session_id,
        role=Role.AGENT,
        author=user,
        content=content,
    )
    message_columns, message_values = async_db.insert_row(message)
    event = WorkOrderEvent(
        tenant_id=user.tenant_id,
        work_order_id=0,  # the session's, in the statement
        kind=WorkOrderEvent.Kind.COMMENT,
        actor=user,
        body=body,
        internal=False,
    )
    event_columns, event_values = async_db.insert_row(event)
    event_values = [
        v for c, v in zip(event_columns, event_values, strict=True) if c != "work_order_id"
    ]
    params = [
        session_id,
        user.tenant_id,
        SessionStatus.ENDED,
        user.pk,
        list(settings.HELPDESK_CHANNEL_DELIVERY),
        *message_values,
        message.created_at,
        *event_values,
        event.created_at,
        event.created_at,
        user.tenant_id,
    ]
    async with (await async_db.pool()).connection() as conn:
        cursor = await conn.execute(_reply_sql(message_columns, event_columns), params)
        row = await cursor.fetchone()
    if row is None:
        return None
    async_db.saved(message, row[0])
    return message


def chosen_replies() -> Replies:
    """This entry point's implementation: the native one where the chat's native turn
    store runs (PostgreSQL, and CHAT_NATIVE_STORE not turned off)."""
    return NativeReplies() if settings.CHAT_NATIVE_STORE and async_db.available() else OrmReplies()
