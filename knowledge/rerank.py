"""Optional LLM re-ranking of the best candidates (`knowledge.rerank_enabled`, off by default).

The LLM sees the query and the top candidates' questions and returns the numbers of
those that answer it, best first. The call goes through the product's LLM client, so it
is recorded (tokens, cost, latency) like every other LLM call. The confidence scores stay
those of the fusion: the re-ordered list takes the same scores in descending order, so
the threshold still decides whether the best candidate is good enough. Without an LLM,
or when the call fails, the order is left as it was.
"""

from __future__ import annotations

import json
import logging
import re

from knowledge.models import KnowledgeEntry
from llm.choices import Purpose
from llm.client import get_llm_client
from llm.errors import LLMError

logger = logging.getLogger(__name__)

CANDIDATES = 8
MAX_TOKENS = 60
_NUMBERS = re.compile(r"\d+")
_BRACKETED = re.compile(r"\[(\d+)\]")

PROMPT = (
    "You rank FAQ entries for a customer-service search. Reply with a JSON array of the "
    "numbers of the entries whose question asks for the same thing as the customer's "
    "question, best first, each in square brackets as in the list, and nothing else. Reply "
    "[] if none does."
)


def rerank_messages(query: str, candidates: list[KnowledgeEntry]) -> list[dict]:
    numbered = "\n".join(f"[{n}] {entry.question}" for n, entry in enumerate(candidates, 1))
    return [
        {"role": "system", "content": PROMPT},
        {"role": "user", "content": f"Customer: {query}\n\nEntries:\n{numbered}"},
    ]


def parse_order(reply: str, count: int) -> list[int]:
    """0-based indexes named in the reply ("[3] [1]", or a JSON list of numbers), first
    mention first, within range."""
    numbers = _BRACKETED.findall(reply)
    if not numbers:
        try:
            parsed = json.loads(reply)
        except json.JSONDecodeError:
            parsed = None
        numbers = [str(n) for n in parsed] if isinstance(parsed, list) else []
    order: list[int] = []
    for number in numbers:
        if not _NUMBERS.fullmatch(number):
            continue
        index = int(number) - 1
        if 0 <= index < count and index not in order:
            order.append(index)
    return order


def rerank(
    query: str, scored: list[tuple[KnowledgeEntry, float]], *, limit: int
) -> list[tuple[KnowledgeEntry, float]]:
    client = get_llm_client()
    top = scored[: max(limit, CANDIDATES)][:CANDIDATES]
    if len(top) < 2 or not client.is_configured():
        return scored
    try:
        result = client.complete(
            rerank_messages(query, [entry for entry, _score in top]),
            purpose=Purpose.OTHER,
            max_tokens=MAX_TOKENS,
            temperature=0.0,
        )
    except LLMError as exc:
        logger.warning("LLM re-ranking failed, keeping the fused order: %s", exc)
        return scored
    order = parse_order(result.text.strip(), len(top))
    if not order:
        return scored
    order += [i for i in range(len(top)) if i not in order]
    scores = sorted((score for _entry, score in top), reverse=True)
    reordered = [(top[i][0], score) for i, score in zip(order, scores, strict=True)]
    return reordered + scored[len(top) :]
