"""Every decision of a turn, as plain functions over typed values: no I/O here.

Confidence (0..1) of an answer with knowledge hits h1..hk (scores 0..1, best first):

    confidence = 0.6 * score(h1) + 0.4 * mean(score of the hits the answer cites)

An answer that cites nothing scores at most 0.6 * score(h1); with no hits it is 0.
Below `dialogue.confidence_threshold` the answer says so and offers a person, and
after `dialogue.handoff_after_low_confidence` such answers in a row the conversation
is handed to a person.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from django.utils.translation import gettext as _

from dialogue.models import Role, SessionStatus
from dialogue.pipeline.errors import InvalidMessage
from dialogue.pipeline.values import AnswerDraft, Route, SearchRequest, TurnSettings
from knowledge.followup import FOLLOWUP_MAX_CHARS
from knowledge.search import SearchHit
from llm.calls import LLMResult

CITATION_RE = re.compile(r"\[(\d{1,3})\]")
TOP_WEIGHT = 0.6
CITED_WEIGHT = 0.4


def validated_content(content: Any, settings: TurnSettings) -> str:
    if not isinstance(content, str) or not content.strip():
        raise InvalidMessage(_("The message is empty."))
    content = content.strip()
    limit = settings.max_message_chars
    if len(content) > limit:
        raise InvalidMessage(
            _("The message is too long (%(length)d characters; at most %(limit)d).")
            % {"length": len(content), "limit": limit}
        )
    return content


def asks_for_person(content: str, settings: TurnSettings) -> bool:
    return any(keyword and keyword in content for keyword in settings.handoff_keywords)


def search_request(content: str, settings: TurnSettings) -> SearchRequest | None:
    """The knowledge search the message will need if its session is the assistant's."""
    if asks_for_person(content, settings):
        return None
    if not settings.llm.configured:
        return SearchRequest(content, limit=1, verified_only=True)
    return SearchRequest(content, limit=settings.knowledge_top_k)


def may_be_followup(content: str) -> bool:
    """Short enough that it may lean on what was said before (knowledge.followup decides)."""
    return len("".join(content.split())) <= FOLLOWUP_MAX_CHARS


def route(
    *, session_status: str, content: str, settings: TurnSettings, llm_available: bool
) -> Route:
    """`llm_available`: an LLM is configured and the tenant's budget does not stop it."""
    if session_status == SessionStatus.HANDED_OFF:
        return Route.FORWARD
    if asks_for_person(content, settings):
        return Route.HAND_OFF
    if not llm_available:
        return Route.KNOWLEDGE_ONLY
    return Route.ANSWER


def cited_entry_ids(text: str, hits: list[SearchHit]) -> list[int]:
    """Entry ids of the [n] markers in `text` that name one of the numbered hits."""
    ids: list[int] = []
    for raw in CITATION_RE.findall(text):
        number = int(raw)
        if 1 <= number <= len(hits):
            entry_id = hits[number - 1].entry.pk
            if entry_id not in ids:
                ids.append(entry_id)
    return ids


def confidence_score(hits: list[SearchHit], cited_ids: list[int]) -> float:
    if not hits:
        return 0.0
    cited = [hit.score for hit in hits if hit.entry.pk in cited_ids]
    cited_mean = sum(cited) / len(cited) if cited else 0.0
    value = TOP_WEIGHT * hits[0].score + CITED_WEIGHT * cited_mean
    return round(min(max(value, 0.0), 1.0), 4)


def llm_answer(
    text: str,
    *,
    hits: list[SearchHit],
    result: LLMResult | None,
    error: Exception | None,
    settings: TurnSettings,
    elapsed_ms: int,
) -> AnswerDraft:
    """The answer after the LLM call: its citations and confidence, or the fallback."""
    if error is not None:
        fallback = fallback_text()
        return AnswerDraft(
            content=f"{text}\n\n{fallback}" if text else fallback,
            error_type=getattr(error, "error_type", "") or type(error).__name__,
            latency_ms=elapsed_ms,
            llm_call_id=str(getattr(error, "call_id", None) or ""),
        )
    citations = cited_entry_ids(text, hits)
    draft = AnswerDraft(
        content=text,
        citations=citations,
        confidence=confidence_score(hits, citations),
        latency_ms=elapsed_ms,
    )
    if result is not None:
        draft = replace(
            draft,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            latency_ms=max(result.latency_ms, 0),
            first_token_ms=None if result.first_token_ms is None else max(result.first_token_ms, 0),
            llm_call_id=str(result.call_id or ""),
        )
    return with_confidence_notice(draft, settings)


def knowledge_only_answer(
    hits: list[SearchHit], *, settings: TurnSettings, elapsed_ms: int
) -> AnswerDraft:
    """Without an LLM: the best verified entry among the hits, quoted, when it is good
    enough (the hits of a turn whose LLM a spent budget stopped need not all be verified)."""
    verified = [hit for hit in hits if hit.entry.verified]
    best = verified[0] if verified and verified[0].score >= settings.answer_threshold else None
    if best is None:
        draft = AnswerDraft(
            content=_(
                "(Knowledge-base-only mode) Sorry, I could not find an answer in the knowledge "
                "base. Reply “转人工” to talk to a support agent."
            ),
            confidence=0.0,
            kb_only=True,
            latency_ms=elapsed_ms,
        )
    else:
        draft = AnswerDraft(
            content=_("(Knowledge-base-only mode) %(answer)s [1]") % {"answer": best.entry.answer},
            citations=[best.entry.pk],
            confidence=round(best.score, 4),
            kb_only=True,
            latency_ms=elapsed_ms,
        )
    return with_confidence_notice(draft, settings)


def partial_answer(text: str, *, elapsed_ms: int) -> AnswerDraft:
    """What had streamed when the customer left."""
    return AnswerDraft(content=text, error_type="client_disconnected", latency_ms=elapsed_ms)


def hand_off_notice(work_order_number: str, *, elapsed_ms: int) -> AnswerDraft:
    return AnswerDraft(
        role=Role.SYSTEM,
        content=_(
            "You are being transferred to a support agent (work order %(number)s). "
            "An agent will reply here as soon as possible."
        )
        % {"number": work_order_number},
        latency_ms=elapsed_ms,
    )


def with_confidence_notice(draft: AnswerDraft, settings: TurnSettings) -> AnswerDraft:
    if draft.error_type or draft.confidence is None:
        return draft
    if draft.confidence >= settings.confidence_threshold:
        return draft
    notice = _(
        "(I am not confident about this answer. If it does not help, reply “转人工” to talk "
        "to a support agent.)"
    )
    return replace(draft, content=f"{draft.content}\n\n{notice}", low_confidence=True)


def hand_off_due(draft: AnswerDraft, streak: int, settings: TurnSettings) -> bool:
    """After a saved answer: hand off when low-confidence answers reached the limit."""
    limit = settings.handoff_after_low_confidence
    return bool(draft.low_confidence and limit and streak >= limit)


def transferred_notice(work_order_number: str) -> str:
    return _("You have been transferred to a support agent (work order %(number)s).") % {
        "number": work_order_number
    }


def fallback_text() -> str:
    return _(
        "Sorry, the assistant is not available right now. Your message has been kept; please "
        "try again later, or reply “转人工” to talk to a support agent."
    )
