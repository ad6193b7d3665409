"""The product's one LLM client, on the official openai SDK (sync and native async).

    client = get_llm_client()
    if client.is_configured():
        result = client.complete(messages, purpose="chat")            # or await acomplete(...)
        async for item in client.astream(messages, purpose="chat"):   # or stream(...)
            ...  # StreamDelta(text=...) items, then one LLMResult

Configuration is the ConfigService `llm` section, read on every call, so a change
made through the config API takes effect at once. SDK clients (and their connection
pools) are cached per process by a fingerprint of base URL and API key; async
clients also per event loop, because a connection pool belongs to the loop that
opened it.

Deadlines. `timeout` (default `llm.timeout_seconds`) bounds the whole call,
retries and back-off included. A stream must also deliver its first token within
`llm.first_token_timeout_seconds`. The async methods enforce both with asyncio
deadlines. The sync methods pass the time left as the HTTP timeout of each attempt
and check the deadlines after each chunk, so a sync stream that stalls after its
first token is cut off by the read timeout set at its start (the smaller of the two).

Retries. Up to `llm.max_retries` more attempts on 408, 409, 429, 5xx and refused
connections, honouring Retry-After, and only while the deadline allows. A stream is
never retried once it has started: its tokens may already be on a user's screen.

Accounting. Every call writes exactly one `llm.LLMCall` row in the active tenant
(calls without a tenant scope are refused before anything is sent): outcome ok,
error (with the error type) or cancelled (the caller stopped a stream or its task
was cancelled). Tokens come from the provider's usage, streams included; when a
stream breaks before its usage arrives, the tokens are estimated from the text and
the row says `usage_reported=False`. The row is written with the caller's database
connection: outside a transaction, the normal path since an LLM call must never
hold one open for seconds, it is committed at once; inside an atomic block it
shares that block's fate.

Errors are typed (`LLMError` and subclasses, each with an `error_type` code and the
`call_id` of its row); API keys never appear in messages or logs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx2
import openai
from asgiref.sync import sync_to_async
from openai import AsyncOpenAI, OpenAI

from helpdesk import async_db
from helpdesk.config import ConfigError, get_config
from helpdesk.tenancy import current_tenant
from llm.choices import ErrorType, Outcome, Purpose

__all__ = [
    "ErrorType",
    "LLMBadConfiguration",
    "LLMBadResponse",
    "LLMClient",
    "LLMError",
    "LLMNotConfigured",
    "LLMProviderError",
    "LLMRateLimited",
    "LLMResult",
    "LLMSettings",
    "LLMTimeout",
    "Outcome",
    "Purpose",
    "StreamDelta",
    "get_llm_client",
]

logger = logging.getLogger(__name__)

COST_QUANTUM = Decimal("0.000001")
# Sent when no key is configured: keyless local servers (vLLM, Ollama) ignore it.
NO_API_KEY = "EMPTY"
RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER_SECONDS = 60.0
MAX_CACHED_CLIENTS = 4
# Longer than any call may last: llm.timeout_seconds is at most 600 s.
CLOSE_STALE_CLIENT_AFTER_SECONDS = 900.0
_END = object()


# --- errors ---------------------------------------------------------------------------


class LLMError(Exception):
    """Base of every LLM failure; `call_id` is the LLMCall row that records it."""

    error_type: str = ErrorType.INTERNAL

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.call_id: int | None = None


class LLMTimeout(LLMError):
    error_type = ErrorType.TIMEOUT


class LLMRateLimited(LLMError):
    error_type = ErrorType.RATE_LIMITED


class LLMProviderError(LLMError):
    """The provider failed (5xx, refused request, unreachable)."""

    error_type = ErrorType.PROVIDER_ERROR


class LLMBadResponse(LLMError):
    """A broken stream or an answer that cannot be read."""

    error_type = ErrorType.BAD_RESPONSE


class LLMNotConfigured(LLMError):
    error_type = ErrorType.NOT_CONFIGURED


class LLMBadConfiguration(LLMError):
    """The configuration is unusable: bad base URL, key refused, unknown model."""

    error_type = ErrorType.BAD_CONFIGURATION


# --- public results ---------------------------------------------------------------------


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


# --- configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class LLMSettings:
    """One consistent snapshot of the `llm` configuration section."""

    base_url: str
    api_key: str = field(repr=False)
    model: str
    temperature: float
    max_tokens: int
    timeout_seconds: float
    first_token_timeout_seconds: float
    max_retries: int
    prices: dict[str, dict[str, float]]

    @classmethod
    def load(cls) -> LLMSettings:
        return cls(**get_config().get_section("llm"))

    @property
    def configured(self) -> bool:
        return bool(self.base_url.strip() and self.model.strip())

    @property
    def fingerprint(self) -> str:
        material = f"{self.base_url}\0{self.api_key}".encode()
        return hashlib.sha256(material).hexdigest()

    def sdk_options(self) -> dict[str, Any]:
        if not self.configured:
            raise LLMNotConfigured("No LLM is configured (llm.base_url and llm.model).")
        parts = urlsplit(self.base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise LLMBadConfiguration("llm.base_url must be an http(s) URL.")
        return {
            "base_url": self.base_url.strip(),
            "api_key": self.api_key or NO_API_KEY,
            "max_retries": 0,
            "timeout": self.timeout_seconds,
        }

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """Cost in CNY from the prices per 1,000 tokens of the model (or of "*")."""
        price = self.prices.get(self.model) or self.prices.get("*") or {}
        per_thousand = (
            Decimal(str(price.get("input", 0))) * prompt_tokens
            + Decimal(str(price.get("output", 0))) * completion_tokens
        )
        return (per_thousand / 1000).quantize(COST_QUANTUM)


class _SDKClients:
    """SDK clients per configuration fingerprint, the async ones per event loop too.

    The async clients send over aiohttp (the SDK's `DefaultAioHttpClient`): reading a
    streamed answer costs about half the CPU per chunk of the default httpx transport,
    whose connection pool also probes every idle connection's socket on each request
    (bench/chat_pipeline.py, docs/benchmarks.md).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sync: OrderedDict[str, OpenAI] = OrderedDict()
        self._async: dict[asyncio.AbstractEventLoop, OrderedDict[str, AsyncOpenAI]] = {}

    def sync(self, settings: LLMSettings) -> OpenAI:
        options = settings.sdk_options()
        with self._lock:
            # Calls in flight may still use a dropped client: it closes when collected.
            _cache_client(self._sync, settings.fingerprint, lambda: OpenAI(**options))
            return self._sync[settings.fingerprint]

    def async_(self, settings: LLMSettings) -> AsyncOpenAI:
        options = settings.sdk_options()
        loop = asyncio.get_running_loop()

        def build() -> AsyncOpenAI:
            return AsyncOpenAI(**options, http_client=openai.DefaultAioHttpClient())

        with self._lock:
            for closed in [other for other in self._async if other.is_closed()]:
                del self._async[closed]
            per_loop = self._async.setdefault(loop, OrderedDict())
            dropped = _cache_client(per_loop, settings.fingerprint, build)
            client = per_loop[settings.fingerprint]
        # Calls in flight may still use a dropped client: it is closed once the longest
        # of them must be over.
        for stale in dropped:
            loop.call_later(CLOSE_STALE_CLIENT_AFTER_SECONDS, _close_later, stale)
        return client

    async def aclose(self) -> None:
        """Close the running event loop's async clients (at server shutdown)."""
        with self._lock:
            clients = self._async.pop(asyncio.get_running_loop(), OrderedDict())
        for client in clients.values():
            await client.close()


def _close_later(client: AsyncOpenAI) -> None:
    task = asyncio.get_running_loop().create_task(client.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_closing: set[asyncio.Task] = set()


def _cache_client[T](cache: OrderedDict[str, T], key: str, build: Callable[[], T]) -> list[T]:
    """Put `key`'s client (built if missing) last in `cache`; returns the clients
    dropped to keep MAX_CACHED_CLIENTS."""
    if key in cache:
        cache.move_to_end(key)
        return []
    try:
        cache[key] = build()
    except openai.OpenAIError as exc:
        raise LLMBadConfiguration(f"The LLM client cannot be built: {exc}") from exc
    dropped = []
    while len(cache) > MAX_CACHED_CLIENTS:
        dropped.append(cache.popitem(last=False)[1])
    return dropped


# --- one call ---------------------------------------------------------------------------


def estimate_tokens(text: str) -> int:
    """Roughly 4 ASCII characters per token and one token per other (CJK) character."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 4) + len(text) - ascii_chars


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


@dataclass
class _Call:
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
            # every message against the typed parameters: about 10 ms of CPU for a
            # prompt with forty turns of history (bench/chat_pipeline.py).
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
        prompt = 3 + sum(4 + estimate_tokens(_message_text(m)) for m in self.messages)
        return prompt, estimate_tokens(text), False

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


def as_llm_error(exc: BaseException) -> LLMError | None:
    """The typed error for an SDK, network or configuration failure; None for others."""
    match exc:
        case LLMError():
            return exc
        case TimeoutError() | openai.APITimeoutError() | httpx2.TimeoutException():
            return LLMTimeout("The LLM did not answer in time.")
        case openai.RateLimitError():
            return LLMRateLimited("The LLM provider's rate limit was reached.", status_code=429)
        case openai.APIStatusError() if exc.status_code in (401, 403, 404):
            return LLMBadConfiguration(
                f"The LLM provider refused the request (HTTP {exc.status_code}); "
                "check llm.base_url, llm.api_key and llm.model.",
                status_code=exc.status_code,
            )
        case openai.APIStatusError():
            return LLMProviderError(
                f"The LLM provider returned HTTP {exc.status_code}.", status_code=exc.status_code
            )
        case openai.APIConnectionError() if isinstance(exc.__cause__, httpx2.ConnectError):
            return LLMProviderError("The LLM provider cannot be reached.")
        case openai.APIConnectionError() | httpx2.TransportError():
            return LLMBadResponse("The LLM response broke off.")
        case openai.APIError() | json.JSONDecodeError():
            return LLMBadResponse("The LLM response cannot be read.")
        case ConfigError():
            return LLMBadConfiguration(f"The llm configuration is invalid: {exc}")
        case openai.OpenAIError():
            return LLMBadConfiguration(f"The LLM client failed: {type(exc).__name__}")
    return None


# --- streams -------------------------------------------------------------------------
#
# Streams are read from the SDK's raw response (`with_streaming_response`) and each
# `data:` line is parsed with json.loads. The SDK's own stream builds a pydantic object
# per chunk, which measured as the largest single cost of a streamed answer.


def _sse_payload(line: str) -> Any:
    """The JSON of one `data:` line; None for other lines; _END at `data: [DONE]`."""
    if not line.startswith("data:"):
        return None
    data = line[5:].strip()
    if data == "[DONE]":
        return _END
    payload = json.loads(data)
    if isinstance(payload, dict) and payload.get("error"):
        error = payload["error"]
        message = error.get("message") if isinstance(error, dict) else None
        raise LLMProviderError(f"The LLM stream reported an error: {message or error}")
    return payload


def _stream_chunks(lines: Iterator[str]) -> Iterator[Any]:
    ended = False
    for line in lines:
        payload = _sse_payload(line)
        if payload is _END:
            # Read on to the end of the body, so the connection can be reused.
            ended = True
        elif payload is not None and not ended:
            yield payload


async def _astream_chunks(lines: AsyncIterator[str]) -> AsyncIterator[Any]:
    ended = False
    async for line in lines:
        payload = _sse_payload(line)
        if payload is _END:
            ended = True
        elif payload is not None and not ended:
            yield payload


def _retry_after(headers: Any) -> float | None:
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            delay = float(headers.get(name)) / divisor
        except (TypeError, ValueError):
            continue
        if 0 <= delay <= MAX_RETRY_AFTER_SECONDS:
            return delay
    return None


def _retry_delay(call: _Call, exc: Exception) -> float | None:
    """Seconds to wait before the next attempt, or None to give up."""
    assert call.settings is not None
    if call.attempts > call.settings.max_retries:
        return None
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code not in RETRY_STATUSES and exc.status_code < 500:
            return None
        delay = _retry_after(exc.response.headers)
    elif isinstance(exc, openai.APIConnectionError) and isinstance(
        exc.__cause__, httpx2.ConnectError
    ):
        delay = None
    else:
        return None
    if delay is None:
        delay = min(0.5 * 2 ** (call.attempts - 1), 8.0) * (1 - 0.25 * random.random())
    left = call.deadline - time.perf_counter()
    return delay if delay < left else None


def _record_fields(call: _Call, outcome: str, error: _Failure | None) -> dict[str, Any]:
    if error is None:
        return call.row(outcome)
    status_code = error.raised.status_code if error.raised else None
    return call.row(outcome, error.error_type, status_code)


def _record(call: _Call, outcome: str, error: _Failure | None = None) -> int:
    # Imported here: this module is imported before the app registry is ready.
    from llm.services import llm_call_record

    return llm_call_record(**_record_fields(call, outcome, error)).pk


async def _arecord(call: _Call, outcome: str, error: _Failure | None = None) -> int:
    """`_record` from the event loop: natively async on PostgreSQL, so that streams do not
    share the GIL with a worker thread per call."""
    from llm.services import llm_call_build

    if not async_db.in_use():
        return await sync_to_async(_record)(call, outcome, error)
    record = llm_call_build(**_record_fields(call, outcome, error))
    await async_db.insert(record)
    return record.pk


@dataclass(frozen=True)
class _Failure:
    outcome: str
    error_type: str
    raised: LLMError | None  # None: re-raise the original exception


def _failure(call: _Call, exc: BaseException) -> _Failure:
    if isinstance(exc, GeneratorExit | asyncio.CancelledError | KeyboardInterrupt):
        return _Failure(Outcome.CANCELLED, "", None)
    error = as_llm_error(exc)
    if error is None:
        logger.exception("LLM call failed unexpectedly (purpose=%s)", call.purpose)
        return _Failure(Outcome.ERROR, ErrorType.INTERNAL, None)
    logger.warning(
        "LLM call failed: purpose=%s model=%s error=%s status=%s attempts=%d",
        call.purpose,
        call.model,
        error.error_type,
        error.status_code,
        call.attempts,
    )
    return _Failure(Outcome.ERROR, error.error_type, error)


def _fail(call: _Call, exc: BaseException) -> NoReturn:
    """Record the failed call, then raise its typed error (or the original exception)."""
    failure = _failure(call, exc)
    _reraise(exc, failure, _record(call, failure.outcome, failure))


async def _afail(call: _Call, exc: BaseException) -> NoReturn:
    failure = _failure(call, exc)
    _reraise(exc, failure, await _arecord(call, failure.outcome, failure))


def _reraise(exc: BaseException, failure: _Failure, call_id: int) -> NoReturn:
    if failure.raised is None:
        raise exc
    failure.raised.call_id = call_id
    if failure.raised is exc:
        raise exc
    raise failure.raised from exc


class LLMClient:
    """Stateless facade: configuration is read per call, SDK clients are cached."""

    def __init__(self) -> None:
        self._clients = _SDKClients()

    def is_configured(self) -> bool:
        return LLMSettings.load().configured

    async def aclose(self) -> None:
        """Close the HTTP connections of the running event loop's SDK clients."""
        await self._clients.aclose()

    # sync ---------------------------------------------------------------------------

    def complete(
        self,
        messages: list[dict],
        *,
        purpose: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> LLMResult:
        call = _begin(messages, purpose, False, max_tokens, temperature, timeout)
        try:
            call.settings = LLMSettings.load()
            sdk = self._clients.sync(call.settings)
            completion = self._attempts(
                call, lambda left: sdk.chat.completions.create(**call.request(), timeout=left)
            )
            call.take_completion(completion)
        except BaseException as exc:
            _fail(call, exc)
        return call.result(_record(call, Outcome.OK))

    def stream(
        self,
        messages: list[dict],
        *,
        purpose: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> Iterator[StreamDelta | LLMResult]:
        call = _begin(messages, purpose, True, max_tokens, temperature, timeout)
        try:
            call.settings = LLMSettings.load()
            sdk = self._clients.sync(call.settings)
            response = self._attempts(
                call,
                lambda left: sdk.chat.completions.with_streaming_response.create(
                    **call.request(), timeout=left
                ).__enter__(),
            )
            try:
                for chunk in _stream_chunks(response.iter_lines()):
                    text = call.take_chunk(chunk)
                    call.time_left()
                    if text:
                        yield StreamDelta(text)
            finally:
                response.close()
            call.check_stream_complete()
        except BaseException as exc:
            _fail(call, exc)
        yield call.result(_record(call, Outcome.OK))

    def _attempts[T](self, call: _Call, send: Callable[[float], T]) -> T:
        while True:
            left = call.time_left()
            call.attempts += 1
            try:
                return send(left)
            except (openai.APIStatusError, openai.APIConnectionError) as exc:
                delay = _retry_delay(call, exc)
                if delay is None:
                    raise
            time.sleep(delay)

    # async --------------------------------------------------------------------------

    async def acomplete(
        self,
        messages: list[dict],
        *,
        purpose: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> LLMResult:
        call = _begin(messages, purpose, False, max_tokens, temperature, timeout)
        try:
            call.settings = LLMSettings.load()
            sdk = self._clients.async_(call.settings)
            completion = await self._aattempts(
                call, lambda left: sdk.chat.completions.create(**call.request(), timeout=left)
            )
            call.take_completion(completion)
        except BaseException as exc:
            await _afail(call, exc)
        return call.result(await _arecord(call, Outcome.OK))

    async def astream(
        self,
        messages: list[dict],
        *,
        purpose: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
    ) -> AsyncIterator[StreamDelta | LLMResult]:
        call = _begin(messages, purpose, True, max_tokens, temperature, timeout)
        try:
            call.settings = LLMSettings.load()
            sdk = self._clients.async_(call.settings)
            response = await self._aattempts(
                call,
                lambda left: sdk.chat.completions.with_streaming_response.create(
                    **call.request(), timeout=left
                ).__aenter__(),
            )
            try:
                chunks = _astream_chunks(response.iter_lines())
                while True:
                    # The deadline wraps only the wait for the next chunk, never a yield:
                    # a timeout must not fire inside the consumer's code.
                    async with asyncio.timeout(call.time_left()):
                        chunk = await anext(chunks, None)
                    if chunk is None:
                        break
                    text = call.take_chunk(chunk)
                    if text:
                        yield StreamDelta(text)
            finally:
                await response.close()
            call.check_stream_complete()
        except BaseException as exc:
            await _afail(call, exc)
        yield call.result(await _arecord(call, Outcome.OK))

    async def _aattempts[T](self, call: _Call, send: Callable[[float], Awaitable[T]]) -> T:
        while True:
            left = call.time_left()
            call.attempts += 1
            try:
                async with asyncio.timeout(left):
                    return await send(left)
            except (openai.APIStatusError, openai.APIConnectionError) as exc:
                delay = _retry_delay(call, exc)
                if delay is None:
                    raise
            await asyncio.sleep(delay)


def _begin(
    messages: list[dict],
    purpose: str,
    stream: bool,
    max_tokens: int | None,
    temperature: float | None,
    timeout: float | None,
) -> _Call:
    """Refuse programming errors before anything is sent or recorded."""
    if purpose not in Purpose.values:
        raise ValueError(f"Unknown LLM purpose {purpose!r}; expected one of {Purpose.values}.")
    if not messages:
        raise ValueError("An LLM call needs at least one message.")
    current_tenant()
    return _Call(list(messages), purpose, stream, max_tokens, temperature, timeout)


_client = LLMClient()


def get_llm_client() -> LLMClient:
    """The process-wide LLM client."""
    return _client
