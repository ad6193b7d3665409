"""The stub's configuration, statistics and shared state (faults queued, requests kept)."""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmstub.answers import Plan

DEFAULT_MODEL = "stub-llm"
FAULTS = ("500", "429", "hang", "broken_stream", "timeout_first_token")
RECENT_REQUESTS = 100
MAX_HEADER_BYTES = 64 * 1024
FILLER_WORDS = (
    "The",
    "stub",
    "model",
    "answers",
    "deterministically",
    "so",
    "tests",
    "can",
    "rely",
    "on",
    "it.",
)
CITATION_RE = re.compile(r"\[(\d{1,3})\]")
MAX_CITATIONS = 3
QUOTE_CHARS = 40
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
Json = dict[str, Any]


class HttpError(Exception):
    """A request the server refuses with an OpenAI-style error body."""

    def __init__(
        self,
        status: int,
        message: str,
        error_type: str = "invalid_request_error",
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.code = code


class ClientGone(Exception):
    """The client went away, or the connection must be dropped on purpose."""


@dataclass(frozen=True)
class StubConfig:
    latency_ms: float = 0.0
    token_delay_ms: float = 0.0
    tokens: int = 16
    model: str = DEFAULT_MODEL
    api_key: str | None = None

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.token_delay_ms < 0 or self.tokens < 0:
            raise ValueError("latency_ms, token_delay_ms and tokens must not be negative")

    def public(self) -> Json:
        data = asdict(self)
        data["api_key"] = "***" if self.api_key else None
        return data


def config_from_json(base: StubConfig, changes: Json) -> StubConfig:
    """Apply a JSON object of changes to ``base``, rejecting unknown keys and bad types."""
    unknown = set(changes) - {f.name for f in fields(StubConfig)}
    if unknown:
        raise HttpError(400, f"unknown config keys: {sorted(unknown)}")
    coerced: Json = {}
    for key, value in changes.items():
        if key in ("latency_ms", "token_delay_ms"):
            coerced[key] = parse_number(key, value)
        elif key == "tokens":
            coerced[key] = int(parse_number(key, value))
        elif value is None and key == "api_key":
            coerced[key] = None
        elif isinstance(value, str):
            coerced[key] = value
        else:
            raise HttpError(400, f"{key} must be a string")
    try:
        return replace(base, **coerced)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from exc


def parse_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise HttpError(400, f"{name} must be a number")
    try:
        return float(value)
    except ValueError as exc:
        raise HttpError(400, f"{name} must be a number") from exc


def check_fault(name: str) -> str:
    if name not in FAULTS:
        raise HttpError(400, f"unknown fault {name!r}, expected one of {list(FAULTS)}")
    return name


@dataclass
class Stats:
    connections: int = 0
    requests: int = 0
    streamed: int = 0
    completed: int = 0
    disconnected: int = 0
    unauthorized: int = 0
    rejected: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    max_in_flight: int = 0
    embedding_requests: int = 0
    faults: dict[str, int] = field(default_factory=dict)


class StubState:
    """Configuration, fault queue and counters, shared by the event loop and test threads."""

    def __init__(self, config: StubConfig) -> None:
        self._defaults = config
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.config = self._defaults
            self._faults: deque[str] = deque()
            self._stats = Stats()
            self._recent: deque[Json] = deque(maxlen=RECENT_REQUESTS)
            self._active: set[str] = set()

    def configure(self, changes: Json) -> StubConfig:
        with self._lock:
            self.config = config_from_json(self.config, changes)
            return self.config

    def queue_faults(self, faults: list[str]) -> list[str]:
        checked = [check_fault(str(f)) for f in faults]
        with self._lock:
            self._faults.extend(checked)
            return list(self._faults)

    def next_fault(self) -> str | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self._stats, name, getattr(self._stats, name) + amount)

    def count_fault(self, fault: str) -> None:
        with self._lock:
            self._stats.faults[fault] = self._stats.faults.get(fault, 0) + 1

    def begin(self, plan: Plan) -> None:
        with self._lock:
            stats = self._stats
            stats.requests += 1
            stats.streamed += plan.stream
            self._active.add(plan.completion_id)
            stats.max_in_flight = max(stats.max_in_flight, len(self._active))
            self._recent.append(plan.body)

    def finish(self, plan: Plan) -> None:
        """Count a full answer; called before its last bytes go out, so that a client that
        has read the answer always sees it counted."""
        usage = plan.usage
        with self._lock:
            self._stats.completed += 1
            self._stats.prompt_tokens += usage["prompt_tokens"]
            self._stats.completion_tokens += usage["completion_tokens"]
            self._active.discard(plan.completion_id)

    def end(self, plan: Plan) -> None:
        with self._lock:
            self._active.discard(plan.completion_id)

    def stats(self) -> Json:
        with self._lock:
            data = asdict(self._stats)
            data["in_flight"] = len(self._active)
            data["queued_faults"] = list(self._faults)
            return data

    def recent_requests(self) -> list[Json]:
        with self._lock:
            return list(self._recent)
