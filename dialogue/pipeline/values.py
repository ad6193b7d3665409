"""The typed values a turn passes through: what arrives, what the pipeline reads and
decides, and what it answers."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from accounts.models import Tenant
from dialogue.models import ChatSession, Message, Role, SessionStatus
from helpdesk.config import get_config
from knowledge.followup import Followup
from knowledge.search import SearchHit
from llm.settings import LLMSettings

# Earlier messages of the session read for the prompt (the token budget picks among them).
HISTORY_MESSAGES = 40


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A customer's message as an entry point received it (`content` not yet validated).

    `session_id` names the session the customer writes to (web and API clients know it);
    without it the message goes to the customer's open session of the channel, or a new one.
    """

    tenant_id: int
    channel: str
    external_user_id: str
    content: Any
    channel_message_id: str = ""
    session_id: int | None = None


@dataclass(frozen=True)
class TurnSettings:
    """The configuration one turn needs, read once at its start."""

    system_prompt: str
    max_message_chars: int
    session_idle_minutes: int
    history_token_budget: int
    confidence_threshold: float
    handoff_keywords: tuple[str, ...]
    handoff_after_low_confidence: int
    knowledge_top_k: int
    visitor_rate_per_minute: int
    max_output_tokens: int
    answer_threshold: float
    llm: LLMSettings

    @classmethod
    def load(cls) -> TurnSettings:
        config = get_config()
        dialogue = config.get_section("dialogue")
        return cls(
            system_prompt=dialogue["system_prompt"],
            max_message_chars=dialogue["max_message_chars"],
            session_idle_minutes=dialogue["session_idle_minutes"],
            history_token_budget=dialogue["history_token_budget"],
            confidence_threshold=dialogue["confidence_threshold"],
            handoff_keywords=tuple(dialogue["handoff_keywords"]),
            handoff_after_low_confidence=dialogue["handoff_after_low_confidence"],
            knowledge_top_k=dialogue["knowledge_top_k"],
            visitor_rate_per_minute=dialogue["visitor_rate_per_minute"],
            max_output_tokens=dialogue["max_output_tokens"],
            answer_threshold=config.get("knowledge.answer_threshold"),
            llm=LLMSettings.load(),
        )


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """The knowledge search a turn needs, decided before its message is saved."""

    query: str
    limit: int
    verified_only: bool = False


class Route(StrEnum):
    ANSWER = "answer"  # the LLM answers from the knowledge hits
    KNOWLEDGE_ONLY = "knowledge_only"  # no LLM: the best verified entry answers
    HAND_OFF = "hand_off"  # the customer asked for a person
    FORWARD = "forward"  # a person has the conversation: the message goes to them
    DUPLICATE = "duplicate"  # the message was answered before: the same answer again


@dataclass
class Appended:
    """What a store read and wrote for a new customer message."""

    tenant: Tenant
    session: ChatSession
    message: Message
    history: list[tuple[str, str]] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    hits: list[SearchHit] = field(default_factory=list)


@dataclass
class Duplicate:
    """The message id was seen before: the original message and its answer (if any yet)."""

    tenant: Tenant
    session: ChatSession
    original: Message
    answer: Message | None


@dataclass(frozen=True)
class AnswerDraft:
    """An answer (or notice) before it is saved: the Message fields it will have."""

    content: str
    role: str = Role.ASSISTANT
    citations: list[int] = field(default_factory=list)
    confidence: float | None = None
    low_confidence: bool = False
    kb_only: bool = False
    error_type: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: int | None = None
    first_token_ms: int | None = None
    llm_call_id: str = ""

    @property
    def counts_for_streak(self) -> bool:
        """Whether it moves the session's low-confidence streak (up, or back to 0)."""
        return self.role == Role.ASSISTANT and not self.error_type

    def message_fields(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Reply:
    session: ChatSession
    user_message: Message
    answer: Message | None
    duplicate: bool = False
    titles: dict[int, str] = field(default_factory=dict)  # of the cited knowledge entries

    @property
    def handed_off(self) -> bool:
        return self.session.status == SessionStatus.HANDED_OFF

    @property
    def text(self) -> str:
        return self.answer.content if self.answer is not None else ""


@dataclass
class Delta:
    """A piece of the answer's text, as it streams."""

    text: str


@dataclass(frozen=True)
class PendingRewrite:
    """A follow-up the LLM rewrites into a standalone question when the answer's turn
    comes, before the search and the prompt: what those need."""

    followup: Followup
    search: SearchRequest
    history: list[tuple[str, str]]
    suggestions: list[str]
    content: str


@dataclass
class Turn:
    """A customer message saved, with what the pipeline decided for it.

    `reply` is set when the turn is answered without the LLM; otherwise `prompt` is
    ready for it, or `rewrite` says how to make it.
    """

    incoming: IncomingMessage
    settings: TurnSettings
    tenant: Tenant
    session: ChatSession
    user_message: Message
    route: Route
    hits: list[SearchHit] = field(default_factory=list)
    prompt: list[dict[str, str]] = field(default_factory=list)
    rewrite: PendingRewrite | None = None
    reply: Reply | None = None
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> int:
        return max(round((time.perf_counter() - self.started) * 1000), 0)
