"""The turn store natively async on PostgreSQL and Redis: the chat's hot path.

Django's ORM runs async callers in worker threads, one hop and a few hundred
microseconds of Python per query, and those threads compete with the event loop for
the GIL while answers stream. This store does the steps of every turn on an async
connection pool of its own (`helpdesk.async_db`), one round trip each:

1. `append`: one Redis MGET for a cached search result (`knowledge.search_cache`), then
   one PostgreSQL pipeline: the prompt's context (the session's recent turns, the
   linked work order's suggestions, the entries of the cached result) and one
   statement that checks the session (the customer's own, active or handed off, not
   idle, tenant active), saves the message and touches the session. On a cache miss
   the search runs meanwhile in a worker thread.
2. `save_answer`: the answer, the session's touch and low-confidence streak, the cited
   entries' use, in one transaction.

Everything else (a new or idle session, an ended or unknown one, a duplicate, a
hand-off, a message for the person who has the conversation) is rare and goes to the
ORM store's code in a worker thread, so both stores behave alike by construction
where they share code, and the pipeline's tests hold them alike where they do not.

Every statement names the tenant explicitly. The inserts' columns and values come
from the models; the reads are hand-written and a test holds them equal to the ORM's.
Needs PostgreSQL and the shared Redis cache (`helpdesk.cache.SharedClientRedisCache`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import cache as memoised

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache, caches
from django.utils import timezone

from accounts.models import Tenant
from dialogue.models import ChatSession, Message, Role, SessionStatus, SuggestionStatus
from dialogue.pipeline import orm_store
from dialogue.pipeline.values import (
    HISTORY_MESSAGES,
    AnswerDraft,
    Appended,
    Duplicate,
    IncomingMessage,
    SearchRequest,
    Turn,
    TurnSettings,
)
from helpdesk import async_db
from helpdesk.async_db import quoted
from helpdesk.cache import SharedClientRedisCache
from helpdesk.db import releasing_connections, select_columns
from helpdesk.tenancy import tenant_scope
from knowledge import search_cache
from knowledge.models import KnowledgeEntry
from knowledge.search import SearchHit
from llm.recording import NATIVE_RECORDER, CallRecorder

logger = logging.getLogger(__name__)

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
    SELECT id, tenant_id, question, answer, verified FROM knowledge_knowledgeentry
     WHERE tenant_id = %s AND is_active AND id = ANY(%s)
"""
ENTRY_FIELDS = ("id", "tenant_id", "question", "answer", "verified")
_USAGE_SQL = """
    UPDATE knowledge_knowledgeentry
       SET usage_count = usage_count + 1, last_used_at = %s
     WHERE tenant_id = %s AND id = ANY(%s)
"""
HISTORY_ROLES = [Role.USER, Role.ASSISTANT, Role.AGENT]


@memoised
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
               AND (s.status = %s OR (s.status = %s AND s.last_activity_at >= %s))
         RETURNING {select_columns(ChatSession, "s")}, {select_columns(Tenant, "t", "tenant_")}
        ), m AS (
            INSERT INTO {message_table} ({", ".join(quoted(c) for c in insert_columns)})
            SELECT {placeholders} FROM s
            RETURNING id
        )
        SELECT s.*, m.id FROM s, m
    """


@memoised
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


def available() -> bool:
    """Whether this deployment runs the store: PostgreSQL and the shared Redis cache,
    unless `CHAT_NATIVE_STORE=0` (e.g. behind a PgBouncer that cannot prepare statements)."""
    return (
        settings.CHAT_NATIVE_STORE
        and async_db.available()
        and isinstance(caches["default"], SharedClientRedisCache)
    )


class NativeTurnStore:
    def __init__(self) -> None:
        self._orm = orm_store.OrmTurnStore()

    @property
    def call_recorder(self) -> CallRecorder:
        return NATIVE_RECORDER

    async def append(
        self,
        incoming: IncomingMessage,
        *,
        content: str,
        settings: TurnSettings,
        search: SearchRequest | None,
    ) -> Appended | Duplicate:
        if incoming.session_id is None:
            return await self._orm.append(
                incoming, content=content, settings=settings, search=search
            )
        cached = await _cached_result(incoming.tenant_id, search)
        searching = None
        if search is not None and cached is None:
            searching = asyncio.ensure_future(_search_in_thread(incoming.tenant_id, search))
        try:
            appended = await _append(incoming, content, settings, cached)
        except psycopg.errors.UniqueViolation:
            duplicate = await sync_to_async(releasing_connections(_duplicate))(incoming)
            if duplicate is not None:
                return duplicate
            raise
        finally:
            hits = await searching if searching is not None else None
        if appended is None:
            return await self._orm.append(
                incoming, content=content, settings=settings, search=search
            )
        appended_turn, entries = appended
        if appended_turn.session.status == SessionStatus.ACTIVE and search is not None:
            if cached is not None:
                hits = search_cache.hits_from(cached, entries)
            if hits is None:
                # An entry of the cached result changed in the meantime.
                hits = await _search_in_thread(incoming.tenant_id, search)
            appended_turn.hits = hits
        return appended_turn

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return await self._orm.search(request)

    async def save_answer(self, turn: Turn, draft: AnswerDraft) -> tuple[Message, int]:
        answer = Message(
            tenant_id=turn.tenant.pk,
            session=turn.session,
            reply_to=turn.user_message,
            **draft.message_fields(),
        )
        columns, values = async_db.insert_row(answer)
        session_params = [
            answer.created_at,
            draft.counts_for_streak,
            draft.low_confidence,
            turn.session.pk,
            turn.tenant.pk,
        ]
        async with (await async_db.pool()).connection() as conn, conn.transaction():
            async with conn.pipeline():
                saved = await conn.execute(_answer_sql(columns), [*values, *session_params])
                if draft.citations:
                    await conn.execute(
                        _USAGE_SQL, [answer.created_at, turn.tenant.pk, draft.citations]
                    )
            pk, streak = await saved.fetchone()
        async_db.saved(answer, pk)
        turn.session.low_confidence_streak = streak
        return answer, streak

    async def amend_answer(self, answer: Message, content: str) -> None:
        await self._orm.amend_answer(answer, content)

    async def hand_off(self, turn: Turn, reason: str) -> ChatSession:
        return await self._orm.hand_off(turn, reason)

    async def forward_to_agent(self, turn: Turn) -> None:
        await self._orm.forward_to_agent(turn)


async def _cached_result(
    tenant_id: int, search: SearchRequest | None
) -> list[tuple[int, float, str]] | None:
    if search is None or search.verified_only:
        return None
    keys = search_cache.lookup_keys(tenant_id, search.query, limit=search.limit)
    if keys is None:
        return None
    try:
        raw = await cache.async_client().mget([cache.make_and_validate_key(k) for k in keys])
    except Exception as exc:
        logger.warning("Search cache not read (cache unavailable: %s).", exc)
        return None
    return search_cache.result_from([cache.decode(value) for value in raw])


async def _append(
    incoming: IncomingMessage,
    content: str,
    settings: TurnSettings,
    cached: list[tuple[int, float, str]] | None,
) -> tuple[Appended, dict[int, KnowledgeEntry]] | None:
    """The common case in one round trip; None when the session does not qualify."""
    tenant_id, session_id = incoming.tenant_id, incoming.session_id
    message = Message(
        tenant_id=tenant_id,
        session_id=session_id,
        role=Role.USER,
        content=content,
        channel_message_id=incoming.channel_message_id,
    )
    columns, values = async_db.insert_row(message)
    session_params = [
        message.created_at,
        session_id,
        tenant_id,
        incoming.channel,
        incoming.external_user_id,
        SessionStatus.HANDED_OFF,
        SessionStatus.ACTIVE,
        timezone.now() - timedelta(minutes=settings.session_idle_minutes),
    ]
    entry_ids = [entry_id for entry_id, _score, _snippet in cached or []]
    async with (await async_db.pool()).connection() as conn:
        # One implicit transaction, up to the pipeline's sync: all or nothing. The reads
        # come first, so the history is the session's turns before this message.
        async with conn.pipeline():
            history = await conn.execute(
                _HISTORY_SQL, [tenant_id, session_id, HISTORY_ROLES, HISTORY_MESSAGES]
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
    turn = Appended(
        tenant=tenant,
        session=session,
        message=message,
        history=history_rows,
        suggestions=[found[0] for found in suggestion_rows],
    )
    return turn, {
        found[0]: KnowledgeEntry.from_db("default", ENTRY_FIELDS, found) for found in entry_rows
    }


async def _search_in_thread(tenant_id: int, search: SearchRequest) -> list[SearchHit]:
    return await sync_to_async(releasing_connections(_search))(tenant_id, search)


def _search(tenant_id: int, search: SearchRequest) -> list[SearchHit]:
    """The store's search, scoped by the incoming message's tenant id: it may run before
    the message is accepted, and a refused message throws its result away."""
    with tenant_scope(Tenant(pk=tenant_id)):
        return orm_store.hits_for(search)


def _duplicate(incoming: IncomingMessage) -> Duplicate | None:
    tenant = Tenant.objects.get(pk=incoming.tenant_id)
    with tenant_scope(tenant):
        return orm_store.duplicate_for(tenant, incoming)
