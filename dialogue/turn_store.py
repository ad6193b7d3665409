"""The streaming fast path's database work, on native async psycopg (PostgreSQL only).

Django's ORM runs async code in worker threads, one hop and a few hundred
microseconds of Python per query. The fast path instead does its reads and writes on
an async connection pool of its own, one round trip each (pipeline mode):

1. `append_user_message`: the prompt's context (the session's recent turns, the linked
   work order's suggestions, the knowledge entries of a cached search result), then
   one statement that checks the session (the visitor's own, active, not idle, tenant
   active), saves the customer's message and touches the session. The reads come
   first, so the history is the session's turns before this message.
2. `add_answer`: the answer, the session touched, the cited entries' usage.

Every statement names the tenant explicitly (there is no ORM manager here to add it).
The inserts' columns and values come from the model, so a new field with a default
needs no change here; the reads are hand-written (compiling the ORM's querysets cost
more than running them) and a test holds them equal to the ORM's.
Statements are prepared on first use (`prepare_threshold=1`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from accounts.models import Tenant
from dialogue.models import Channel, ChatSession, Message, Role, SessionStatus, SuggestionStatus
from helpdesk import async_db
from helpdesk.async_db import quoted
from helpdesk.db import select_columns
from knowledge.models import KnowledgeEntry


@dataclass
class AppendedMessage:
    tenant: Tenant
    session: ChatSession
    message: Message
    history: list[tuple[str, str]]
    suggestions: list[str]
    entries: dict[int, KnowledgeEntry]


@cache
def _append_sql(insert_columns: tuple[str, ...]) -> str:
    session_table = quoted(ChatSession._meta.db_table)
    message_table = quoted(Message._meta.db_table)
    tenant_table = quoted(Tenant._meta.db_table)
    placeholders = ", ".join(["%s"] * len(insert_columns))
    return f"""
        WITH s AS (
            UPDATE {session_table} AS s
               SET message_count = s.message_count + 1, last_activity_at = %s
              FROM {tenant_table} AS t
             WHERE s.id = %s AND s.tenant_id = %s AND t.id = s.tenant_id AND t.is_active
               AND s.channel = %s AND s.external_user_id = %s
               AND s.status = %s AND s.last_activity_at >= %s
         RETURNING {select_columns(ChatSession, "s")}, {select_columns(Tenant, "t", "tenant_")}
        ), m AS (
            INSERT INTO {message_table} ({", ".join(quoted(c) for c in insert_columns)})
            SELECT {placeholders} FROM s
            RETURNING id
        )
        SELECT s.*, m.id FROM s, m
    """


_HISTORY_SQL = """
    SELECT role, content FROM dialogue_message
     WHERE tenant_id = %s AND session_id = %s AND role = ANY(%s) AND error_type = ''
     ORDER BY created_at DESC, id DESC
     LIMIT %s
"""
_SUGGESTIONS_SQL = """
    SELECT content FROM dialogue_workordersuggestion
     WHERE tenant_id = %s AND status <> %s AND work_order_id = (
           SELECT work_order_id FROM dialogue_chatsession WHERE id = %s AND tenant_id = %s)
     ORDER BY created_at DESC
     LIMIT 3
"""
_ENTRIES_SQL = """
    SELECT id, tenant_id, question, answer FROM knowledge_knowledgeentry
     WHERE tenant_id = %s AND is_active AND id = ANY(%s)
"""
ENTRY_FIELDS = ("id", "tenant_id", "question", "answer")


async def append_user_message(
    *,
    tenant_id: int,
    session_id: int,
    visitor_id: str,
    content: str,
    channel_message_id: str,
    idle_since: datetime,
    history_limit: int,
    entry_ids: list[int],
) -> AppendedMessage | None:
    """Save a web visitor's message to its active session, with the prompt's context;
    None if the session does not qualify (not the visitor's, not active, idle, inactive
    tenant): the caller then takes the full path, which explains why.

    The context holds the same rows as `pipeline.history_queryset` and
    `pipeline.suggestions_queryset` (a test holds them equal), and the active entries
    among `entry_ids`, all of the token's tenant.
    A duplicate `channel_message_id` raises psycopg's UniqueViolation and writes nothing.
    """
    message = Message(
        tenant_id=tenant_id,
        session_id=session_id,
        role=Role.USER,
        content=content,
        channel_message_id=channel_message_id,
    )
    columns, values = async_db.insert_row(message)
    session_params = [
        message.created_at,
        session_id,
        tenant_id,
        Channel.WEB,
        visitor_id,
        SessionStatus.ACTIVE,
        idle_since,
    ]
    roles = [Role.USER, Role.ASSISTANT, Role.AGENT]
    async with (await async_db.pool()).connection() as conn:
        # One implicit transaction, up to the pipeline's sync: all or nothing.
        async with conn.pipeline():
            history = await conn.execute(
                _HISTORY_SQL, [tenant_id, session_id, roles, history_limit]
            )
            suggestions = await conn.execute(
                _SUGGESTIONS_SQL, [tenant_id, SuggestionStatus.REJECTED, session_id, tenant_id]
            )
            entries = None
            if entry_ids:
                entries = await conn.execute(_ENTRIES_SQL, [tenant_id, entry_ids])
            appended = await conn.execute(_append_sql(columns), [*session_params, *values])
        row = await appended.fetchone()
        if row is None:
            return None
        history_rows = await history.fetchall()
        suggestion_rows = await suggestions.fetchall()
        entry_rows = await entries.fetchall() if entries else []
    session_fields = len(ChatSession._meta.concrete_fields)
    tenant_fields = len(Tenant._meta.concrete_fields)
    session = async_db.instance(ChatSession, row[:session_fields])
    tenant = async_db.instance(Tenant, row[session_fields : session_fields + tenant_fields])
    async_db.saved(message, row[-1])
    return AppendedMessage(
        tenant=tenant,
        session=session,
        message=message,
        history=history_rows,
        suggestions=[found[0] for found in suggestion_rows],
        entries={
            found[0]: KnowledgeEntry.from_db("default", ENTRY_FIELDS, found) for found in entry_rows
        },
    )


@cache
def _answer_sql(columns: tuple[str, ...]) -> str:
    session_table = quoted(ChatSession._meta.db_table)
    return f"""
        WITH m AS ({async_db.insert_sql(Message, columns)})
        UPDATE {session_table} AS s
           SET message_count = s.message_count + 1, last_activity_at = %s,
               low_confidence_streak = CASE
                   WHEN %s THEN (CASE WHEN %s THEN s.low_confidence_streak + 1 ELSE 0 END)
                   ELSE s.low_confidence_streak
               END
          FROM m
         WHERE s.id = %s AND s.tenant_id = %s
     RETURNING m.id, s.low_confidence_streak
    """


_USAGE_SQL = """
    UPDATE knowledge_knowledgeentry
       SET usage_count = usage_count + 1, last_used_at = %s
     WHERE tenant_id = %s AND id = ANY(%s)
"""


async def add_answer(answer: Message) -> int:
    """Save an answer as `services.message_add_answer` and `entries_record_usage` do, in
    one transaction and one round trip: the message, its session touched (with the
    low-confidence streak of an assistant answer that did not fail), and one use of each
    cited entry. Returns the session's streak after it."""
    columns, values = async_db.insert_row(answer)
    counts = answer.role == Role.ASSISTANT and not answer.error_type
    session_params = [
        answer.created_at,
        counts,
        answer.low_confidence,
        answer.session_id,
        answer.tenant_id,
    ]
    async with (await async_db.pool()).connection() as conn, conn.transaction():
        async with conn.pipeline():
            saved = await conn.execute(_answer_sql(columns), [*values, *session_params])
            if answer.citations:
                await conn.execute(
                    _USAGE_SQL, [answer.created_at, answer.tenant_id, answer.citations]
                )
        pk, streak = await saved.fetchone()
    async_db.saved(answer, pk)
    return streak
