"""The pipeline's steps, in order, over the store an entry point chose.

    turn = await prepare(incoming, store=store, admission=admission)
    reply = await complete(turn, store=store)          # the whole answer
    async for item in stream(turn, store=store): ...   # Delta items, then the Reply

`prepare` validates, admits, saves the customer's message with its context (before any
LLM call, so it is never lost), routes it, and answers at once whatever needs no LLM
(a duplicate, a hand-off, a message for the person who has the conversation, an answer
from the knowledge base alone). Errors it raises (`dialogue.pipeline.errors`) come
before anything of the message is written, so an entry point may hand the message to
another entry point to report them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

from asgiref.sync import sync_to_async
from django.utils.translation import gettext as _

from accounts.models import Tenant
from dialogue import selectors
from dialogue.live import events
from dialogue.models import ChatSession, HandoffReason, Message, SessionStatus
from dialogue.pipeline import decisions
from dialogue.pipeline.admission import Admission, AlreadyAdmitted
from dialogue.pipeline.errors import DuplicateInFlight, SessionEnded
from dialogue.pipeline.prompt import build_prompt
from dialogue.pipeline.store import TurnStore
from dialogue.pipeline.values import (
    AnswerDraft,
    Appended,
    Delta,
    Duplicate,
    IncomingMessage,
    PendingRewrite,
    Reply,
    Route,
    SearchRequest,
    Turn,
    TurnSettings,
)
from helpdesk.db import releasing_connections
from helpdesk.tenancy import tenant_scope
from knowledge.followup import Followup, followup_of, standalone_question
from llm.budget import budget_exhausted, tenant_budget
from llm.calls import LLMResult, StreamDelta
from llm.choices import Purpose
from llm.client import get_llm_client
from llm.errors import LLMError

logger = logging.getLogger(__name__)

ADMIT = AlreadyAdmitted()
_producers: set[asyncio.Task] = set()
_publishing: set[asyncio.Task] = set()


async def prepare(
    incoming: IncomingMessage, *, store: TurnStore, admission: Admission = ADMIT
) -> Turn:
    started = time.perf_counter()
    settings = TurnSettings.load()
    content = decisions.validated_content(incoming.content, settings)
    await admission.admit(incoming, settings)
    search = decisions.search_request(content, settings)
    appended = await store.append(incoming, content=content, settings=settings, search=search)
    if isinstance(appended, Duplicate):
        return await _answered_before(incoming, settings, appended, started)
    _publish(appended.message, appended.session, {})
    with tenant_scope(appended.tenant):
        llm_available = settings.llm.configured and not await _budget_stops(appended.tenant)
        turn = _turn(incoming, settings, appended, content, started, llm_available)
        match turn.route:
            case Route.FORWARD:
                await store.forward_to_agent(turn)
                turn.reply = Reply(turn.session, turn.user_message, None)
            case Route.HAND_OFF:
                turn.reply = await _hand_off_on_request(turn, store)
            case Route.KNOWLEDGE_ONLY:
                followup = await _followup(turn, search, appended)
                if followup is not None:
                    turn.hits = await store.search(replace(search, query=followup.joined))
                draft = decisions.knowledge_only_answer(
                    turn.hits, settings=settings, elapsed_ms=turn.elapsed_ms()
                )
                turn.reply = await settle(turn, draft, store)
            case Route.ANSWER:
                followup = await _followup(turn, search, appended)
                if followup is not None:
                    turn.rewrite = PendingRewrite(
                        followup, search, appended.history, appended.suggestions, content
                    )
                else:
                    turn.prompt = _prompt(turn, appended.history, appended.suggestions, content)
    return turn


async def _budget_stops(tenant: Tenant) -> bool:
    """The tenant's hard stop is on and its monthly LLM budget is spent."""
    budget = tenant_budget(tenant)
    if not (budget.hard_stop and budget.limited):
        return False
    return await sync_to_async(releasing_connections(budget_exhausted))()


async def _followup(
    turn: Turn, search: SearchRequest | None, appended: Appended
) -> Followup | None:
    """The follow-up a short message makes on the conversation ("那要多久？"), to be
    searched together with the customer's previous question."""
    content = turn.user_message.content
    if search is None or not appended.history or not decisions.may_be_followup(content):
        return None
    return await sync_to_async(releasing_connections(followup_of))(content, appended.history[::-1])


async def _rewrite_followup(turn: Turn, store: TurnStore) -> None:
    """The LLM's standalone question for a pending follow-up, searched, and the prompt.
    Done when the answer's turn comes, not while preparing: an entry point may limit how
    many turns it prepares at once, and this waits for the LLM."""
    pending = turn.rewrite
    if pending is None:
        return
    query = await standalone_question(
        pending.followup, settings=turn.settings.llm, recorder=store.call_recorder
    )
    turn.hits = await store.search(replace(pending.search, query=query))
    turn.prompt = _prompt(turn, pending.history, pending.suggestions, pending.content)
    turn.rewrite = None


def _prompt(
    turn: Turn, history: list[tuple[str, str]], suggestions: list[str], content: str
) -> list[dict[str, str]]:
    return build_prompt(
        tenant=turn.tenant,
        settings=turn.settings,
        hits=turn.hits,
        history=history,
        suggestions=suggestions,
        content=content,
    )


def _turn(
    incoming: IncomingMessage,
    settings: TurnSettings,
    appended: Appended,
    content: str,
    started: float,
    llm_available: bool,
) -> Turn:
    route = decisions.route(
        session_status=appended.session.status,
        content=content,
        settings=settings,
        llm_available=llm_available,
    )
    return Turn(
        incoming=incoming,
        settings=settings,
        tenant=appended.tenant,
        session=appended.session,
        user_message=appended.message,
        route=route,
        hits=appended.hits if route in (Route.ANSWER, Route.KNOWLEDGE_ONLY) else [],
        started=started,
    )


async def _answered_before(
    incoming: IncomingMessage, settings: TurnSettings, duplicate: Duplicate, started: float
) -> Turn:
    """The same reply again, with the titles of the entries it cites; an error while the
    first one is still being answered."""
    answered = duplicate.answer is not None or duplicate.session.status != SessionStatus.ACTIVE
    if not answered:
        raise DuplicateInFlight(
            _("This message is already being answered."), original_id=duplicate.original.pk
        )
    titles = await _cited_titles(duplicate.tenant, duplicate.answer)
    reply = Reply(
        duplicate.session, duplicate.original, duplicate.answer, duplicate=True, titles=titles
    )
    return Turn(
        incoming=incoming,
        settings=settings,
        tenant=duplicate.tenant,
        session=duplicate.session,
        user_message=duplicate.original,
        route=Route.DUPLICATE,
        reply=reply,
        started=started,
    )


async def _cited_titles(tenant: Tenant, answer: Message | None) -> dict[int, str]:
    if answer is None or not answer.citations:
        return {}

    def read() -> dict[int, str]:
        with tenant_scope(tenant):
            return selectors.citation_titles([answer])

    return await sync_to_async(releasing_connections(read))()


async def _hand_off_on_request(turn: Turn, store: TurnStore) -> Reply:
    turn.session = await store.hand_off(turn, HandoffReason.KEYWORD)
    notice = decisions.hand_off_notice(turn.session.work_order.number, elapsed_ms=turn.elapsed_ms())
    answer, _streak = await store.save_answer(turn, notice)
    return Reply(turn.session, turn.user_message, answer)


async def settle(turn: Turn, draft: AnswerDraft, store: TurnStore) -> Reply:
    """Save the answer, then hand the conversation off if low-confidence answers in a
    row reached the limit (and say so in the answer)."""
    answer, streak = await store.save_answer(turn, draft)
    titles = {hit.entry.pk: hit.entry.question for hit in turn.hits}
    titles = {entry_id: titles.get(entry_id, "") for entry_id in answer.citations}
    if decisions.hand_off_due(draft, streak, turn.settings):
        try:
            turn.session = await store.hand_off(turn, HandoffReason.LOW_CONFIDENCE)
        except SessionEnded:
            pass
        else:
            answer.content += "\n\n" + decisions.transferred_notice(turn.session.work_order.number)
            await store.amend_answer(answer, answer.content)
    _publish(answer, turn.session, titles)
    return Reply(turn.session, turn.user_message, answer, titles=titles)


def _publish(message: Message, session: ChatSession, titles: dict[int, str]) -> None:
    """Tell the conversation's other connections (the customer's other tabs, the desks
    that show it), without holding up the turn."""
    to_desks = session.status == SessionStatus.HANDED_OFF
    publishing = events.apublish_message(message, session.tenant_id, titles, to_desks=to_desks)
    task = asyncio.create_task(publishing)
    _publishing.add(task)
    task.add_done_callback(_publishing.discard)


async def complete(turn: Turn, *, store: TurnStore) -> Reply:
    """The whole answer at once."""
    if turn.reply is not None:
        return turn.reply
    with tenant_scope(turn.tenant):
        await _rewrite_followup(turn, store)
        text, result, error = "", None, None
        try:
            result = await get_llm_client().acomplete(
                turn.prompt,
                purpose=Purpose.CHAT,
                max_tokens=turn.settings.max_output_tokens,
                settings=turn.settings.llm,
                recorder=store.call_recorder,
            )
            text = result.text
        except LLMError as exc:
            error = exc
        return await settle(turn, _llm_draft(turn, text, result, error), store)


def _llm_draft(
    turn: Turn, text: str, result: LLMResult | None, error: LLMError | None
) -> AnswerDraft:
    if error is not None:
        logger.warning("LLM failed for session %s: %s", turn.session.pk, error.error_type)
    return decisions.llm_answer(
        text,
        hits=turn.hits,
        result=result,
        error=error,
        settings=turn.settings,
        elapsed_ms=turn.elapsed_ms(),
    )


async def stream(turn: Turn, *, store: TurnStore) -> AsyncIterator[Delta | Reply]:
    """Stream the answer: Delta items, then the saved Reply.

    The LLM call runs in its own task, which enters the tenant scope itself, so the
    scope never leaks into (or depends on) the consumer's context. Deltas that queue up
    while the consumer is busy are sent as one. If the consumer stops early (the client
    disconnected), the task is cancelled and what was generated so far is saved, marked
    `client_disconnected`.
    """
    if turn.reply is not None:
        if turn.reply.answer is not None:
            yield Delta(turn.reply.text)
        yield turn.reply
        return
    queue: asyncio.Queue[Delta | Reply | BaseException] = asyncio.Queue()
    task = asyncio.create_task(_produce(turn, store, queue))
    _producers.add(task)
    task.add_done_callback(_producers.discard)
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


def _merged_deltas(
    items: list[Delta | Reply | BaseException],
) -> list[Delta | Reply | BaseException]:
    """Join consecutive Deltas: a busy consumer catches up in one write, not one per token."""
    merged: list[Delta | Reply | BaseException] = []
    for item in items:
        if isinstance(item, Delta) and merged and isinstance(merged[-1], Delta):
            merged[-1] = Delta(merged[-1].text + item.text)
        else:
            merged.append(item)
    return merged


async def _produce(turn: Turn, store: TurnStore, queue: asyncio.Queue) -> None:
    with tenant_scope(turn.tenant):
        parts: list[str] = []
        result, error = None, None
        try:
            await _rewrite_followup(turn, store)
            async for item in get_llm_client().astream(
                turn.prompt,
                purpose=Purpose.CHAT,
                max_tokens=turn.settings.max_output_tokens,
                settings=turn.settings.llm,
                recorder=store.call_recorder,
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
            await _save_partial(turn, store, "".join(parts))
            raise
        except Exception as exc:
            queue.put_nowait(exc)
            raise
        streamed = "".join(parts)
        try:
            reply = await settle(turn, _llm_draft(turn, streamed, result, error), store)
        except Exception as exc:
            queue.put_nowait(exc)
            raise
        if reply.text.startswith(streamed) and len(reply.text) > len(streamed):
            queue.put_nowait(Delta(reply.text[len(streamed) :]))
        queue.put_nowait(reply)


async def _save_partial(turn: Turn, store: TurnStore, text: str) -> None:
    try:
        await store.save_answer(turn, decisions.partial_answer(text, elapsed_ms=turn.elapsed_ms()))
    except Exception:
        logger.exception("Could not save the partial answer of session %s", turn.session.pk)


async def answer(
    incoming: IncomingMessage, *, store: TurnStore, admission: Admission = ADMIT
) -> Reply:
    """`prepare`, then `complete`: one message, one whole answer."""
    turn = await prepare(incoming, store=store, admission=admission)
    return await complete(turn, store=store)
