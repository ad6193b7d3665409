"""The MessagePipeline: the one way an entry point talks to the assistant.

    handle_message(...)        -> Reply                    (sync, whole answer)
    stream_message(...)        -> async iterator of Delta, then one Reply
    prepare_turn(...) + complete_turn(turn) / stream_turn(turn)
                                (for entry points that must answer errors before streaming)
    prepare_web_turn(...)      -> WebTurn                  (the stream's fast path: a web
                                visitor's message on async PostgreSQL and Redis; without a
                                turn, the message goes to prepare_turn)

Steps: validate -> de-duplicate by the channel's message id (an atomic `cache.add`
shared by every process) -> get or create the ChatSession -> save the customer's
Message (before any LLM call, so it is never lost) -> hand-off keywords -> knowledge
search -> prompt -> LLM -> save the answer with citations, confidence, tokens and
timings -> record knowledge usage -> hand off after repeated low confidence.

Nothing is kept in process memory: the cache and the database hold all state, so
any process may serve any message of any session.

Confidence (0..1) of an answer with knowledge hits h1..hk (scores 0..1, best first):

    confidence = 0.6 * score(h1) + 0.4 * mean(score of the hits the answer cites)

An answer that cites nothing scores at most 0.6 * score(h1); with no hits it is 0.
Below `dialogue.confidence_threshold` the answer says so and offers a person.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
from asgiref.sync import sync_to_async
from django.core.cache import cache
from django.db import IntegrityError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Tenant
from dialogue import services, turn_store
from dialogue.models import (
    Channel,
    ChatSession,
    HandoffReason,
    Message,
    Role,
    SessionStatus,
    SuggestionStatus,
    WorkOrderSuggestion,
)
from dialogue.throttling import queue_visitor_count
from helpdesk import async_db
from helpdesk.config import get_config
from helpdesk.db import releasing_connections
from helpdesk.tenancy import tenant_scope
from knowledge import search_cache
from knowledge.search import search
from knowledge.search_cache import cached_search, hits_from
from knowledge.services import entries_record_usage
from llm.calls import StreamDelta
from llm.client import get_llm_client
from llm.errors import LLMError
from llm.recording import NATIVE_RECORDER, ORM_RECORDER

logger = logging.getLogger(__name__)

CITATION_RE = re.compile(r"\[(\d{1,3})\]")
TOP_WEIGHT = 0.6
CITED_WEIGHT = 0.4
HISTORY_MESSAGES = 40
_background: set[asyncio.Task] = set()


class PipelineError(Exception):
    """A message the pipeline refuses; `code` and `field` let entry points report it."""

    code = "invalid"
    field = "content"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidMessage(PipelineError):
    pass


class SessionEnded(PipelineError):
    code = "session_ended"
    field = "session"


class DuplicateInFlight(PipelineError):
    code = "duplicate"
    field = "channel_message_id"


@dataclass
class Delta:
    """A piece of the answer's text, as it streams."""

    text: str


@dataclass
class Reply:
    session: ChatSession
    user_message: Message
    answer: Message | None
    duplicate: bool = False

    @property
    def handed_off(self) -> bool:
        return self.session.status == SessionStatus.HANDED_OFF

    @property
    def text(self) -> str:
        return self.answer.content if self.answer is not None else ""


@dataclass
class Turn:
    """A customer message saved and ready for the LLM (or already answered: `reply`)."""

    tenant: Any
    session: ChatSession
    user_message: Message
    hits: list[Any] = field(default_factory=list)
    prompt: list[dict[str, str]] = field(default_factory=list)
    reply: Reply | None = None
    started: float = field(default_factory=time.perf_counter)


# --- entry points ----------------------------------------------------------------------


def handle_message(
    *,
    tenant: Any,
    content: str,
    channel: str,
    external_user_id: str,
    channel_message_id: str = "",
    session: ChatSession | None = None,
) -> Reply:
    """Answer one customer message with a whole answer."""
    turn = prepare_turn(
        tenant=tenant,
        content=content,
        channel=channel,
        external_user_id=external_user_id,
        channel_message_id=channel_message_id,
        session=session,
    )
    return turn.reply if turn.reply is not None else complete_turn(turn)


async def stream_message(
    *,
    tenant: Any,
    content: str,
    channel: str,
    external_user_id: str,
    channel_message_id: str = "",
    session: ChatSession | None = None,
) -> AsyncIterator[Delta | Reply]:
    """Answer one customer message as a stream: Delta items, then the final Reply."""
    turn = await sync_to_async(prepare_turn)(
        tenant=tenant,
        content=content,
        channel=channel,
        external_user_id=external_user_id,
        channel_message_id=channel_message_id,
        session=session,
    )
    async for item in stream_turn(turn):
        yield item


# --- preparing a turn ------------------------------------------------------------------


def prepare_turn(
    *,
    tenant: Any,
    content: str,
    channel: str,
    external_user_id: str,
    channel_message_id: str = "",
    session: ChatSession | None = None,
) -> Turn:
    with tenant_scope(tenant):
        content = _validated(content)
        dedup_key = None
        if channel_message_id:
            dedup_key = _dedup_key(tenant.pk, channel, external_user_id, channel_message_id)
            ttl = get_config().get("dialogue.dedup_ttl_seconds")
            if not cache.add(dedup_key, 1, timeout=ttl):
                return _duplicate_turn(tenant, channel, external_user_id, channel_message_id)
        try:
            session = _session(session, channel, external_user_id)
            user_message = services.message_add_user(
                session=session, content=content, channel_message_id=channel_message_id
            )
        except IntegrityError:
            # The database saw this message id first (the cache key had expired).
            return _duplicate_turn(tenant, channel, external_user_id, channel_message_id)
        except BaseException:
            if dedup_key is not None:
                cache.delete(dedup_key)
            raise
        turn = Turn(tenant=tenant, session=session, user_message=user_message)
        _route(turn)
        return turn


@dataclass
class WebTurn:
    """What `prepare_web_turn` did: the prepared turn (None: the full path must take the
    message) and the visitor's request count it took (None: it counted nothing)."""

    turn: Turn | None
    visitor_count: int | None = None


async def prepare_web_turn(
    *,
    tenant_id: int,
    session_id: int,
    visitor_id: str,
    content: Any,
    channel_message_id: str,
    visitor_limit: int,
) -> WebTurn:
    """`prepare_turn` for a web visitor's message to its own active session, natively async.

    The streaming fast path's half of the pipeline: the same steps, on async Redis and
    PostgreSQL instead of the ORM in a worker thread, in one round trip to each. It
    needs the shared Redis cache and PostgreSQL. It prepares no turn, having written
    nothing, whenever the message needs `prepare_turn`'s other branches: invalid, a
    duplicate, a request for a person, no LLM configured, a session that is not the
    visitor's, not active or idle, or an inactive tenant; nor when the request is over
    `visitor_limit` (counted here, in the same round trip).
    """
    try:
        content = _validated(content)
    except InvalidMessage:
        return WebTurn(None)
    if _asks_for_person(content) or not get_llm_client().is_configured():
        return WebTurn(None)
    claim = _dedup_key(tenant_id, Channel.WEB, visitor_id, channel_message_id)
    top_k = get_config().get("dialogue.knowledge_top_k")
    admitted = await _admit(
        tenant_id, visitor_id, claim if channel_message_id else None, content, top_k
    )
    refused = WebTurn(None, admitted.visitor_count)
    if not admitted.claimed:
        return refused
    if admitted.visitor_count > visitor_limit:
        await _arelease_claim(admitted)
        return refused
    appended, hits = await _append_and_search(
        admitted,
        tenant_id=tenant_id,
        session_id=session_id,
        visitor_id=visitor_id,
        content=content,
        channel_message_id=channel_message_id,
        top_k=top_k,
    )
    if appended is None:
        await _arelease_claim(admitted)
        return refused
    turn = Turn(tenant=appended.tenant, session=appended.session, user_message=appended.message)
    with tenant_scope(turn.tenant):
        if admitted.cached is not None:
            hits = hits_from(admitted.cached, appended.entries)
        if hits is None:
            # An entry of the cached result changed in the meantime.
            hits = await sync_to_async(_search_in_thread)(tenant_id, content, top_k)
        turn.hits = hits
        turn.prompt = build_prompt(turn, history=appended.history, suggestions=appended.suggestions)
    return WebTurn(turn, admitted.visitor_count)


@dataclass
class _Admission:
    visitor_count: int
    claim: str | None
    claimed: bool
    cached: list[tuple[int, float, str]] | None


async def _admit(
    tenant_id: int, visitor_id: str, claim: str | None, query: str, top_k: int
) -> _Admission:
    """One Redis round trip: count the visitor's request, claim the channel's message id
    (if any), read the cached search result (if the cache is on)."""
    lookup = search_cache.lookup_keys(tenant_id, query, limit=top_k)
    async with cache.async_client().pipeline(transaction=False) as commands:
        queue_visitor_count(commands, tenant_id, visitor_id)
        if claim is not None:
            ttl = get_config().get("dialogue.dedup_ttl_seconds")
            commands.set(cache.make_and_validate_key(claim), 1, nx=True, ex=ttl)
        if lookup:
            commands.mget([cache.make_and_validate_key(key) for key in lookup])
        results = iter(await commands.execute())
    count = next(results)
    next(results)  # the count's expiry
    claimed = bool(next(results)) if claim is not None else True
    cached = search_cache.result_from(list(map(cache.decode, next(results)))) if lookup else None
    return _Admission(count, claim, claimed, cached)


async def _arelease_claim(admitted: _Admission) -> None:
    if admitted.claim is not None and admitted.claimed:
        await cache.async_client().delete(cache.make_and_validate_key(admitted.claim))


async def _append_and_search(
    admitted: _Admission, *, tenant_id: int, content: str, top_k: int, **message: Any
) -> tuple[turn_store.AppendedMessage | None, list[Any] | None]:
    """Save the message with its context; on a search-cache miss, search meanwhile in a
    worker thread. (None, ...) if the session does not qualify or the database holds
    this message id already (the claim had expired)."""
    searching = None
    if admitted.cached is None:
        searching = asyncio.ensure_future(
            sync_to_async(_search_in_thread)(tenant_id, content, top_k)
        )
    minutes = get_config().get("dialogue.session_idle_minutes")
    try:
        appended = await turn_store.append_user_message(
            tenant_id=tenant_id,
            content=content,
            idle_since=timezone.now() - timedelta(minutes=minutes),
            history_limit=HISTORY_MESSAGES,
            entry_ids=[entry_id for entry_id, _score, _snippet in admitted.cached or []],
            **message,
        )
    except psycopg.errors.UniqueViolation:
        appended = None
    except BaseException:
        await _arelease_claim(admitted)
        raise
    finally:
        hits = await searching if searching is not None else None
    return appended, hits


@releasing_connections
def _search_in_thread(tenant_id: int, query: str, limit: int) -> list[Any]:
    """`cached_search` for the fast path, in a worker thread.

    It may run before the message is accepted, so it is scoped by the (signed) token's
    tenant id; a refused message throws its result away.
    """
    with tenant_scope(Tenant(pk=tenant_id)):
        return cached_search(query, limit=limit)


def _validated(content: Any) -> str:
    if not isinstance(content, str) or not content.strip():
        raise InvalidMessage(_("The message is empty."))
    content = content.strip()
    limit = get_config().get("dialogue.max_message_chars")
    if len(content) > limit:
        raise InvalidMessage(
            _("The message is too long (%(length)d characters; at most %(limit)d).")
            % {"length": len(content), "limit": limit}
        )
    return content


def _dedup_key(tenant_id: int, channel: str, external_user_id: str, message_id: str) -> str:
    return f"dialogue:dedup:{tenant_id}:{channel}:{external_user_id}:{message_id}"


def _duplicate_turn(tenant: Any, channel: str, external_user_id: str, message_id: str) -> Turn:
    original = (
        Message.objects.select_related("session")
        .filter(
            role=Role.USER,
            channel_message_id=message_id,
            session__channel=channel,
            session__external_user_id=external_user_id,
        )
        .order_by("-id")
        .first()
    )
    if original is None:
        raise DuplicateInFlight(_("This message is already being answered."))
    answer = original.replies.exclude(role=Role.USER).order_by("id").first()
    reply = Reply(original.session, original, answer, duplicate=True)
    return Turn(tenant=tenant, session=original.session, user_message=original, reply=reply)


def _session(session: ChatSession | None, channel: str, external_user_id: str) -> ChatSession:
    try:
        if session is not None:
            return services.session_for_message(session=session)
        return services.session_open(channel=channel, external_user_id=external_user_id)[0]
    except services.SessionClosed:
        raise SessionEnded(_("This conversation has ended. Start a new one.")) from None


def _route(turn: Turn) -> None:
    """Answer without the LLM where the pipeline can (hand-off, KB-only); else build the prompt."""
    session, message = turn.session, turn.user_message
    if session.status == SessionStatus.HANDED_OFF:
        services.handed_off_message_forward(session=session, message=message)
        turn.reply = Reply(session, message, None)
        return
    if _asks_for_person(message.content):
        turn.reply = _hand_off(turn, HandoffReason.KEYWORD)
        return

    if not get_llm_client().is_configured():
        turn.reply = _knowledge_only_answer(turn)
        return
    top_k = get_config().get("dialogue.knowledge_top_k")
    turn.hits = cached_search(message.content, limit=top_k)
    turn.prompt = _prompt_from_database(turn)


def _asks_for_person(content: str) -> bool:
    keywords = get_config().get("dialogue.handoff_keywords")
    return any(keyword and keyword in content for keyword in keywords)


def _hand_off(turn: Turn, reason: str) -> Reply:
    session = services.session_handoff(session=turn.session, reason=reason)
    notice = services.message_add_answer(
        session=session,
        reply_to=turn.user_message,
        role=Role.SYSTEM,
        content=_(
            "You are being transferred to a support agent (work order #%(number)s). "
            "An agent will reply here as soon as possible."
        )
        % {"number": session.work_order_id},
    )
    return Reply(session, turn.user_message, notice)


# --- the prompt ------------------------------------------------------------------------


def estimate_tokens(text: str) -> int:
    """About 4 ASCII characters per token and one token per CJK character."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return (ascii_chars + 3) // 4 + len(text) - ascii_chars


def entry_text(entry: Any) -> tuple[str, str]:
    """(question, answer) of a knowledge entry."""
    return entry.question, entry.answer


def system_prompt(tenant: Any) -> str:
    custom = (tenant.settings or {}).get("system_prompt")
    return (
        custom
        if isinstance(custom, str) and custom.strip()
        else get_config().get("dialogue.system_prompt")
    )


def build_prompt(
    turn: Turn, *, history: list[tuple[str, str]], suggestions: list[str]
) -> list[dict[str, str]]:
    """The LLM messages of a turn, from `history_queryset` and `suggestions_queryset` rows."""
    parts = [system_prompt(turn.tenant)]
    if turn.hits:
        lines = ["知识库内容（回答时用 [编号] 标注引用）："]
        for number, hit in enumerate(turn.hits, start=1):
            question, answer = entry_text(hit.entry)
            lines.append(f"[{number}] 问：{question}\n答：{answer}")
        parts.append("\n".join(lines))
    else:
        parts.append("知识库中没有找到与问题相关的内容。")
    if suggestions:
        parts.append("关联工单的 AI 处理建议：\n" + "\n".join(f"- {s}" for s in suggestions))
    messages = [{"role": "system", "content": "\n\n".join(parts)}]
    messages += _history_messages(history)
    messages.append({"role": "user", "content": turn.user_message.content})
    return messages


def _prompt_from_database(turn: Turn) -> list[dict[str, str]]:
    suggestions = suggestions_queryset(turn.session)
    return build_prompt(
        turn,
        history=list(history_queryset(turn)),
        suggestions=[] if suggestions is None else list(suggestions),
    )


def suggestions_queryset(session: ChatSession) -> QuerySet | None:
    """The linked work order's recent suggestions (content), or None without one."""
    if not session.work_order_id:
        return None
    return (
        WorkOrderSuggestion.objects.filter(work_order_id=session.work_order_id)
        .exclude(status=SuggestionStatus.REJECTED)
        .order_by("-created_at")
        .values_list("content", flat=True)[:3]
    )


def history_queryset(turn: Turn) -> QuerySet:
    """(role, content) of the session's earlier answered turns, newest first."""
    return (
        Message.objects.filter(
            session=turn.session, role__in=[Role.USER, Role.ASSISTANT, Role.AGENT]
        )
        .exclude(pk=turn.user_message.pk)
        .exclude(error_type__gt="")
        .order_by("-created_at", "-id")
        .values_list("role", "content")[:HISTORY_MESSAGES]
    )


def _history_messages(recent: list[tuple[str, str]]) -> list[dict[str, str]]:
    """The most recent turns that fit in `dialogue.history_token_budget`, oldest first."""
    budget = get_config().get("dialogue.history_token_budget")
    picked: list[dict[str, str]] = []
    for role, content in recent:
        cost = estimate_tokens(content) + 4
        if cost > budget:
            break
        budget -= cost
        if role == Role.AGENT:
            picked.append({"role": "assistant", "content": f"（人工客服）{content}"})
        else:
            picked.append({"role": role, "content": content})
    picked.reverse()
    return picked


# --- answers ---------------------------------------------------------------------------


def cited_entry_ids(text: str, hits: list[Any]) -> list[int]:
    """Entry ids of the [n] markers in `text` that name one of the numbered hits."""
    ids: list[int] = []
    for raw in CITATION_RE.findall(text):
        number = int(raw)
        if 1 <= number <= len(hits):
            entry_id = hits[number - 1].entry.pk
            if entry_id not in ids:
                ids.append(entry_id)
    return ids


def confidence_score(hits: list[Any], cited_ids: list[int]) -> float:
    if not hits:
        return 0.0
    cited = [hit.score for hit in hits if hit.entry.pk in cited_ids]
    cited_mean = sum(cited) / len(cited) if cited else 0.0
    value = TOP_WEIGHT * hits[0].score + CITED_WEIGHT * cited_mean
    return round(min(max(value, 0.0), 1.0), 4)


def _low_confidence_notice() -> str:
    return _(
        "(I am not confident about this answer. If it does not help, reply “转人工” to talk "
        "to a support agent.)"
    )


def _fallback_text() -> str:
    return _(
        "Sorry, the assistant is not available right now. Your message has been kept; please "
        "try again later, or reply “转人工” to talk to a support agent."
    )


def _knowledge_only_answer(turn: Turn) -> Reply:
    threshold = get_config().get("knowledge.answer_threshold")
    verified = search(turn.user_message.content, limit=1, verified_only=True)
    best = verified[0] if verified and verified[0].score >= threshold else None
    if best is not None:
        _question, answer = entry_text(best.entry)
        text = _("(Knowledge-base-only mode) %(answer)s [1]") % {"answer": answer}
        citations = [best.entry.pk]
        confidence = round(best.score, 4)
    else:
        text = _(
            "(Knowledge-base-only mode) Sorry, I could not find an answer in the knowledge base. "
            "Reply “转人工” to talk to a support agent."
        )
        citations, confidence = [], 0.0
    return _save_answer(turn, text, citations=citations, confidence=confidence, kb_only=True)


def _answer_fields(
    turn: Turn,
    text: str,
    *,
    citations: list[int],
    confidence: float | None,
    kb_only: bool = False,
    result: Any = None,
    error_type: str = "",
) -> dict[str, Any]:
    """The answer's fields, with a low-confidence notice when due."""
    threshold = get_config().get("dialogue.confidence_threshold")
    low = not error_type and confidence is not None and confidence < threshold
    if low:
        text = f"{text}\n\n{_low_confidence_notice()}"
    if result is not None:
        usage = {
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "latency_ms": _ms(result.latency_ms),
            "first_token_ms": _ms(result.first_token_ms),
            "llm_call_id": str(result.call_id or ""),
        }
    else:
        usage = {"latency_ms": _ms((time.perf_counter() - turn.started) * 1000)}
    return {
        "content": text,
        "citations": citations,
        "confidence": confidence,
        "low_confidence": low,
        "kb_only": kb_only,
        "error_type": error_type,
        **usage,
    }


def _save_answer(turn: Turn, text: str, **outcome: Any) -> Reply:
    """Save the answer and apply its consequences."""
    fields = _answer_fields(turn, text, **outcome)
    answer = services.message_add_answer(session=turn.session, reply_to=turn.user_message, **fields)
    if fields["citations"]:
        entries_record_usage(entry_ids=fields["citations"])
    if _hand_off_due(turn, answer):
        return _hand_off_after_low_confidence(turn, answer)
    return Reply(turn.session, turn.user_message, answer)


async def _asave_answer(turn: Turn, text: str, **outcome: Any) -> Reply:
    """`_save_answer` from the event loop (PostgreSQL): one round trip, no worker thread."""
    fields = _answer_fields(turn, text, **outcome)
    answer = Message(
        tenant_id=turn.session.tenant_id,
        session=turn.session,
        reply_to=turn.user_message,
        role=Role.ASSISTANT,
        **fields,
    )
    turn.session.low_confidence_streak = await turn_store.add_answer(answer)
    if _hand_off_due(turn, answer):
        hand_off = releasing_connections(_hand_off_after_low_confidence)
        return await sync_to_async(hand_off)(turn, answer)
    return Reply(turn.session, turn.user_message, answer)


def _hand_off_due(turn: Turn, answer: Message) -> bool:
    limit = get_config().get("dialogue.handoff_after_low_confidence")
    return bool(answer.low_confidence and limit and turn.session.low_confidence_streak >= limit)


def _hand_off_after_low_confidence(turn: Turn, answer: Message) -> Reply:
    """Hand the session off (`_hand_off_due`) and tell the customer in the answer."""
    try:
        session = services.session_handoff(
            session=turn.session, reason=HandoffReason.LOW_CONFIDENCE
        )
    except services.SessionClosed:
        return Reply(turn.session, turn.user_message, answer)
    answer.content += "\n\n" + _(
        "You have been transferred to a support agent (work order #%(number)s)."
    ) % {"number": session.work_order_id}
    Message.objects.filter(pk=answer.pk).update(content=answer.content)
    return Reply(session, turn.user_message, answer)


def _ms(value: float | None) -> int | None:
    return None if value is None else max(round(value), 0)


def _llm_outcome(
    turn: Turn, text: str, result: Any, error: Exception | None
) -> tuple[str, dict[str, Any]]:
    """The answer's text and outcome (`_save_answer`'s arguments) after the LLM call."""
    if error is not None:
        logger.warning(
            "LLM failed for session %s: %s", turn.session.pk, type(error).__name__, exc_info=error
        )
        fallback = _fallback_text()
        text = f"{text}\n\n{fallback}" if text else fallback
        return text, {"citations": [], "confidence": None, "error_type": _error_type(error)}
    citations = cited_entry_ids(text, turn.hits)
    confidence = confidence_score(turn.hits, citations)
    return text, {"citations": citations, "confidence": confidence, "result": result}


def _llm_answer(turn: Turn, text: str, result: Any, error: Exception | None) -> Reply:
    text, outcome = _llm_outcome(turn, text, result, error)
    return _save_answer(turn, text, **outcome)


async def _allm_answer(turn: Turn, text: str, result: Any, error: Exception | None) -> Reply:
    text, outcome = _llm_outcome(turn, text, result, error)
    if async_db.in_use():
        return await _asave_answer(turn, text, **outcome)
    return await sync_to_async(_save_answer)(turn, text, **outcome)


def _error_type(error: Exception) -> str:
    return getattr(error, "error_type", "") or type(error).__name__


def complete_turn(turn: Turn) -> Reply:
    """Ask the LLM for a whole answer and save it."""
    with tenant_scope(turn.tenant):
        max_tokens = get_config().get("dialogue.max_output_tokens")
        try:
            result = get_llm_client().complete(turn.prompt, purpose="chat", max_tokens=max_tokens)
        except LLMError as exc:
            return _llm_answer(turn, "", None, exc)
        return _llm_answer(turn, result.text, result, None)


async def stream_turn(turn: Turn) -> AsyncIterator[Delta | Reply]:
    """Stream the answer: Delta items, then the saved Reply.

    The LLM call runs in its own task, which enters the tenant scope itself, so the
    scope never leaks into (or depends on) the consumer's context. Deltas that queue up
    while the consumer is busy are sent as one. If the consumer
    stops early (the client disconnected), the task is cancelled and what was
    generated so far is saved, marked `client_disconnected`.
    """
    if turn.reply is not None:
        if turn.reply.answer is not None:
            yield Delta(turn.reply.text)
        yield turn.reply
        return
    queue: asyncio.Queue[Delta | Reply | BaseException] = asyncio.Queue()
    task = asyncio.create_task(_produce(turn, queue))
    _background.add(task)
    task.add_done_callback(_background.discard)
    try:
        while True:
            ready = [await queue.get()]
            while not queue.empty():
                ready.append(queue.get_nowait())
            for item in _merged_deltas(ready):
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, Reply):
                    return
    finally:
        if not task.done():
            task.cancel()


def _merged_deltas(items: list[Any]) -> list[Any]:
    """Join consecutive Deltas: a busy consumer catches up in one write, not one per token."""
    merged: list[Any] = []
    for item in items:
        if isinstance(item, Delta) and merged and isinstance(merged[-1], Delta):
            merged[-1] = Delta(merged[-1].text + item.text)
        else:
            merged.append(item)
    return merged


async def _produce(turn: Turn, queue: asyncio.Queue) -> None:
    with tenant_scope(turn.tenant):
        parts: list[str] = []
        result = None
        error: Exception | None = None
        max_tokens = get_config().get("dialogue.max_output_tokens")
        try:
            async for item in get_llm_client().astream(
                turn.prompt,
                purpose="chat",
                max_tokens=max_tokens,
                recorder=NATIVE_RECORDER if async_db.in_use() else ORM_RECORDER,
            ):
                if isinstance(item, StreamDelta):
                    if item.text:
                        parts.append(item.text)
                        queue.put_nowait(Delta(item.text))
                        if len(parts) == 1:
                            # Let the consumer send the first token before the rest of
                            # a burst (already read from the socket) is parsed.
                            await asyncio.sleep(0)
                else:
                    result = item
        except LLMError as exc:
            error = exc
        except asyncio.CancelledError:
            await _save_partial(turn, "".join(parts))
            raise
        except Exception as exc:
            queue.put_nowait(exc)
            raise
        streamed = "".join(parts)
        try:
            reply = await _allm_answer(turn, streamed, result, error)
        except Exception as exc:
            queue.put_nowait(exc)
            raise
        if reply.text.startswith(streamed) and len(reply.text) > len(streamed):
            queue.put_nowait(Delta(reply.text[len(streamed) :]))
        queue.put_nowait(reply)


async def _save_partial(turn: Turn, text: str) -> None:
    # The request may be over by now, and nothing else would give this thread's
    # connection back to the pool.
    @releasing_connections
    def save() -> None:
        with tenant_scope(turn.tenant):
            services.message_add_answer(
                session=turn.session,
                reply_to=turn.user_message,
                content=text,
                error_type="client_disconnected",
            )

    try:
        await sync_to_async(save)()
    except Exception:
        logger.exception("Could not save the partial answer of session %s", turn.session.pk)
