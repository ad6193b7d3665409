"""Follow-up questions: a short follow-up ("那要多久？", "还是不行") is searched together
with the conversation's recent turns, so the answer stays on topic.

    followup = followup_of(question, recent_turns)     # None: the question stands alone
    query = followup.joined                              # or, with an LLM:
    query = await standalone_question(followup, settings=..., recorder=...)
    hits = search(query, ...)

`recent_turns` are the conversation's latest messages before `question`, oldest first,
as (role, text) pairs or {"role", "content"} dicts (role "user" for the customer). A
follow-up is joined to the customer's previous questions; `standalone_question` has the
LLM rewrite it into one question (the call is recorded like every LLM call, and any
failure falls back to the joined text). It is async so that waiting for the LLM holds
no thread.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from helpdesk.tenancy import current_tenant
from knowledge import text, vocabulary
from llm.choices import Purpose
from llm.client import get_llm_client
from llm.errors import LLMError
from llm.recording import CallRecorder
from llm.settings import LLMSettings

logger = logging.getLogger(__name__)

FOLLOWUP_MAX_CHARS = 16
# Openings that lean on what was said before.
FOLLOWUP_OPENINGS = (
    "那", "那么", "那要", "那就", "还是", "还有", "还要", "还能", "然后", "如果", "要是",
    "这个", "那个", "它", "这样", "这种", "另外", "再", "又", "可是", "但是", "为啥",
    "what about", "and ", "then ", "still",
)  # fmt: skip
MAX_CONTEXT_TURNS = 2
REWRITE_MAX_TOKENS = 80
REWRITE_PROMPT = (
    "Rewrite the customer's last message as one standalone question in the customer's "
    "language, using the conversation for what it refers to. Reply with the question only."
)

Turn = tuple[str, str] | Mapping[str, str]


def _role_and_text(turn: Turn) -> tuple[str, str]:
    if isinstance(turn, Mapping):
        return str(turn.get("role", "")), str(turn.get("content", ""))
    role, content = turn
    return str(role), str(content)


def topic_words(question: str) -> list[str]:
    """The question's informative tokens (no stopwords, no single characters)."""
    tenant = current_tenant()
    tokens = vocabulary.segmenter_for(tenant.pk).segment(question)
    return [t for t in tokens if text.token_weight(t) > 0.3]


def is_followup(question: str) -> bool:
    """Short and leaning on context: an opening like 那/还是, or at most one topic word."""
    compact = re.sub(r"\s+", "", text.normalise(question))
    if not compact or len(compact) > FOLLOWUP_MAX_CHARS:
        return False
    if compact.startswith(FOLLOWUP_OPENINGS) or text.normalise(question).startswith(
        FOLLOWUP_OPENINGS
    ):
        return True
    return len(topic_words(question)) <= 1


@dataclass(frozen=True)
class Followup:
    question: str
    joined: str  # the customer's previous questions and this one
    conversation: str  # the recent turns, for the rewrite

    def rewrite_messages(self) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": REWRITE_PROMPT},
            {"role": "user", "content": f"{self.conversation}\nuser: {self.question}"},
        ]


def followup_of(question: str, recent_turns: Sequence[Turn]) -> Followup | None:
    """The follow-up `question` makes in its conversation, or None when it stands alone."""
    question = question if isinstance(question, str) else ""
    turns = [_role_and_text(turn) for turn in recent_turns]
    previous = [content for role, content in turns if role == "user" and content.strip()]
    if not previous or not is_followup(question):
        return None
    return Followup(
        question=question,
        joined=" ".join([*previous[-MAX_CONTEXT_TURNS:], question]),
        conversation="\n".join(f"{role}: {content}" for role, content in turns[-6:]),
    )


async def standalone_question(
    followup: Followup, *, settings: LLMSettings, recorder: CallRecorder
) -> str:
    """The LLM's standalone question for `followup` (its joined text if the call fails)."""
    try:
        result = await get_llm_client().acomplete(
            followup.rewrite_messages(),
            purpose=Purpose.QUERY_REWRITE,
            max_tokens=REWRITE_MAX_TOKENS,
            temperature=0.0,
            settings=settings,
            recorder=recorder,
        )
    except LLMError as exc:
        logger.warning("Follow-up rewrite failed, searching the joined turns: %s", exc)
        return followup.joined
    return " ".join(result.text.split()) or followup.joined
