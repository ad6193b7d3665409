"""The turn store on Django's ORM: every database, every step in a worker thread.

Each step is one of the dialogue services (one transaction) run through
`sync_to_async`, so in a request it runs in the request's thread, and gives its
pooled database connection back when done: no connection is held while the LLM
answers (inside an atomic block, a test's included, nothing is given back).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.db import IntegrityError
from django.utils.translation import gettext as _

from accounts.models import Tenant
from dialogue import selectors, services
from dialogue.models import ChatSession, Message, SessionStatus
from dialogue.pipeline.errors import SessionEnded, SessionNotFound
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
from helpdesk.db import releasing_connections
from helpdesk.tenancy import tenant_scope
from knowledge.search import SearchHit, search
from knowledge.search_cache import cached_search
from llm.recording import ORM_RECORDER, CallRecorder

logger = logging.getLogger(__name__)


def _in_thread(func: Any) -> Any:
    return sync_to_async(releasing_connections(func))


class OrmTurnStore:
    @property
    def call_recorder(self) -> CallRecorder:
        return ORM_RECORDER

    async def append(
        self,
        incoming: IncomingMessage,
        *,
        content: str,
        settings: TurnSettings,
        search: SearchRequest | None,
    ) -> Appended | Duplicate:
        return await _in_thread(append)(incoming, content=content, settings=settings, search=search)

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return await _in_thread(hits_for)(request)

    async def save_answer(self, turn: Turn, draft: AnswerDraft) -> tuple[Message, int]:
        return await _in_thread(_save_answer)(turn, draft)

    async def amend_answer(self, answer: Message, content: str) -> None:
        await _in_thread(_amend_answer)(answer, content)

    async def hand_off(self, turn: Turn, reason: str) -> ChatSession:
        return await _in_thread(_hand_off)(turn, reason)

    async def forward_to_agent(self, turn: Turn) -> None:
        await _in_thread(services.handed_off_message_forward)(
            session=turn.session, message=turn.user_message
        )


def append(
    incoming: IncomingMessage,
    *,
    content: str,
    settings: TurnSettings,
    search: SearchRequest | None,
) -> Appended | Duplicate:
    """`TurnStore.append`, synchronously (the native store's way for the uncommon cases)."""
    tenant = Tenant.objects.filter(pk=incoming.tenant_id, is_active=True).first()
    if tenant is None:
        raise SessionNotFound(_("No such conversation."))
    with tenant_scope(tenant):
        session = _session_for(incoming, settings)
        try:
            message = services.message_add_user(
                session=session, content=content, channel_message_id=incoming.channel_message_id
            )
        except IntegrityError:
            duplicate = duplicate_for(tenant, incoming)
            if duplicate is None:
                raise  # a constraint other than the message id's
            return duplicate
        appended = Appended(tenant=tenant, session=session, message=message)
        if session.status == SessionStatus.ACTIVE:
            appended.history = list(
                selectors.recent_history(session, before=message, limit=HISTORY_MESSAGES)
            )
            appended.suggestions = list(selectors.work_order_suggestion_texts(session))
            appended.hits = hits_for(search)
        return appended


def _session_for(incoming: IncomingMessage, settings: TurnSettings) -> ChatSession:
    idle_minutes = settings.session_idle_minutes
    if incoming.session_id is None:
        return services.session_open(
            channel=incoming.channel,
            external_user_id=incoming.external_user_id,
            idle_minutes=idle_minutes,
        )[0]
    session = ChatSession.objects.filter(
        pk=incoming.session_id,
        channel=incoming.channel,
        external_user_id=incoming.external_user_id,
    ).first()
    if session is None:
        raise SessionNotFound(_("No such conversation."))
    try:
        return services.session_for_message(session=session, idle_minutes=idle_minutes)
    except services.SessionClosed:
        raise SessionEnded(_("This conversation has ended. Start a new one.")) from None


def duplicate_for(tenant: Tenant, incoming: IncomingMessage) -> Duplicate | None:
    original = selectors.duplicate_of(
        channel=incoming.channel,
        external_user_id=incoming.external_user_id,
        channel_message_id=incoming.channel_message_id,
    )
    if original is None:
        return None
    return Duplicate(
        tenant=tenant,
        session=original.session,
        original=original,
        answer=selectors.answer_to(original),
    )


def hits_for(request: SearchRequest | None) -> list[SearchHit]:
    """The knowledge hits of a turn; none, logged, when the search cannot run (the cache
    or the index is down): the customer still gets an answer, with less to go on."""
    if request is None:
        return []
    try:
        if request.verified_only:
            return search(request.query, limit=request.limit, verified_only=True)
        return cached_search(request.query, limit=request.limit)
    except Exception:
        logger.exception("Knowledge search failed; the turn goes on without knowledge.")
        return []


def _save_answer(turn: Turn, draft: AnswerDraft) -> tuple[Message, int]:
    answer = services.message_add_answer(
        session=turn.session, reply_to=turn.user_message, **draft.message_fields()
    )
    return answer, turn.session.low_confidence_streak


def _amend_answer(answer: Message, content: str) -> None:
    Message.objects.filter(pk=answer.pk).update(content=content)


def _hand_off(turn: Turn, reason: str) -> ChatSession:
    try:
        session = services.session_handoff(session=turn.session, reason=reason)
    except services.SessionClosed:
        raise SessionEnded(_("This conversation has ended. Start a new one.")) from None
    return ChatSession.objects.select_related("work_order").get(pk=session.pk)
