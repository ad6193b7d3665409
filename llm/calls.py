"""The state of one LLM call, from its first attempt to the fields of its record."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from llm.choices import Outcome
from llm.errors import LLMBadResponse, LLMTimeout
from llm.settings import LLMSettings
from llm.tokens import estimate_prompt_tokens, estimate_tokens


@dataclass(frozen=True, slots=True)
class StreamDelta:
    text: str


@dataclass(frozen=True, slots=True)
class LLMResult:
    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: Decimal
    latency_ms: int
    first_token_ms: int | None
    call_id: int


@dataclass
class Call:
    """The state of one call, from the first attempt to its LLMCall row."""

    messages: list[dict[str, Any]]
    purpose: str
    stream: bool
    max_tokens: int | None
    temperature: float | None
    timeout: float | None
    started: float = field(default_factory=time.perf_counter)
    settings: LLMSettings | None = None
    attempts: int = 0
    parts: list[str] = field(default_factory=list)
    first_token_at: float | None = None
    usage: tuple[int, int] | None = None
    finish_reason: str | None = None
    ended: float | None = None

    @property
    def model(self) -> str:
        return self.settings.model if self.settings else ""

    @property
    def deadline(self) -> float:
        assert self.settings is not None
        return self.started + (self.timeout or self.settings.timeout_seconds)

    def request(self) -> dict[str, Any]:
        assert self.settings is not None
        options: dict[str, Any] = {
            "model": self.settings.model,
            # The messages go in `extra_body`, which the SDK sends as given. Passed as
            # `messages`, they go through the SDK's request transform, which checks
            # every message against the typed parameters at a cost that grows with the
            # history (docs/benchmarks.md, chat pipeline).
            "messages": [],
            "extra_body": {"messages": self.messages},
            "temperature": (
                self.settings.temperature if self.temperature is None else self.temperature
            ),
            "max_tokens": self.max_tokens or self.settings.max_tokens,
        }
        if self.stream:
            options["stream"] = True
            options["stream_options"] = {"include_usage": True}
        return options

    def time_left(self) -> float:
        """Seconds until the next deadline: the first token's, then the call's."""
        assert self.settings is not None
        deadline = self.deadline
        if self.stream and self.first_token_at is None:
            first = self.started + self.settings.first_token_timeout_seconds
            deadline = min(deadline, first)
        left = deadline - time.perf_counter()
        if left <= 0:
            if self.stream and self.first_token_at is None:
                raise LLMTimeout("The LLM sent no token in time.")
            raise LLMTimeout("The LLM did not answer in time.")
        return left

    def take_completion(self, completion: Any) -> None:
        if not completion.choices:
            raise LLMBadResponse("The LLM answer has no choices.")
        choice = completion.choices[0]
        self.parts.append(choice.message.content or "")
        self.finish_reason = choice.finish_reason
        self._take_usage(completion.usage)

    def take_chunk(self, chunk: Any) -> str:
        """Take one parsed chunk of a stream; returns its text."""
        choices = (chunk.get("choices") or []) if isinstance(chunk, dict) else None
        if not isinstance(choices, list):
            raise LLMBadResponse("The LLM stream sent a malformed chunk.")
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            counts = (usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0)
            if all(isinstance(count, int) for count in counts):
                self.usage = counts
        text = ""
        for choice in choices:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                delta = choice.get("delta") or {}
                text = (delta.get("content") or "") if isinstance(delta, dict) else None
                if not isinstance(text, str):
                    raise LLMBadResponse("The LLM stream sent a malformed delta.")
                self.finish_reason = choice.get("finish_reason") or self.finish_reason
        if text:
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
            self.parts.append(text)
        return text

    def check_stream_complete(self) -> None:
        if self.finish_reason is None:
            raise LLMBadResponse("The LLM stream ended without a finish reason.")

    def _take_usage(self, usage: Any) -> None:
        if usage is not None:
            self.usage = (usage.prompt_tokens or 0, usage.completion_tokens or 0)

    def token_counts(self) -> tuple[int, int, bool]:
        """(prompt, completion, reported): the provider's usage, else an estimate."""
        if self.usage is not None:
            return (*self.usage, True)
        text = "".join(self.parts)
        if not text:
            return 0, 0, False
        return estimate_prompt_tokens(self.messages), estimate_tokens(text), False

    def row(self, outcome: str, error_type: str = "", status_code: int | None = None) -> dict:
        prompt_tokens, completion_tokens, reported = self.token_counts()
        if self.ended is None:
            self.ended = time.perf_counter()
        first_token = self.first_token_at
        return {
            "purpose": self.purpose,
            "model": self.model,
            "stream": self.stream,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "usage_reported": reported,
            "cost": self.settings.cost(prompt_tokens, completion_tokens)
            if self.settings
            else Decimal(0),
            "latency_ms": _ms(self.ended - self.started),
            "first_token_ms": None if first_token is None else _ms(first_token - self.started),
            "attempts": self.attempts,
            "outcome": outcome,
            "error_type": error_type,
            "status_code": status_code,
        }

    def result(self, call_id: int) -> LLMResult:
        row = self.row(Outcome.OK)
        return LLMResult(
            text="".join(self.parts),
            model=self.model,
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
            cost=row["cost"],
            latency_ms=row["latency_ms"],
            first_token_ms=row["first_token_ms"],
            call_id=call_id,
        )


def _ms(seconds: float) -> int:
    return round(seconds * 1000)
