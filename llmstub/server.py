"""A deterministic OpenAI-compatible chat completions server on bare asyncio streams.

Latency model: ``latency_ms`` is the time to the first token, ``token_delay_ms`` the gap
between consecutive tokens, so a full answer takes ``latency + (tokens - 1) * token_delay``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Self

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
            coerced[key] = _number(key, value)
        elif key == "tokens":
            coerced[key] = int(_number(key, value))
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


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise HttpError(400, f"{name} must be a number")
    try:
        return float(value)
    except ValueError as exc:
        raise HttpError(400, f"{name} must be a number") from exc


def _check_fault(name: str) -> str:
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
        checked = [_check_fault(str(f)) for f in faults]
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


# --- deterministic answers -------------------------------------------------------------


def message_text(message: Json) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def estimate_tokens(text: str) -> int:
    """Roughly 4 ASCII characters per token, one token per other character (CJK)."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 4) + len(text) - ascii_chars


def prompt_tokens(messages: list[Json]) -> int:
    # Same per-message overhead as OpenAI's published counting recipe.
    return 3 + sum(4 + estimate_tokens(message_text(m)) for m in messages)


def request_digest(messages: list[Json]) -> str:
    canonical = json.dumps(messages, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def cited_numbers(messages: list[Json]) -> list[str]:
    found: list[str] = []
    for message in messages:
        if message.get("role") in ("system", "developer", "user"):
            for number in CITATION_RE.findall(message_text(message)):
                if number not in found:
                    found.append(number)
    return found[:MAX_CITATIONS]


def quote_of_last_user_message(messages: list[Json]) -> str | None:
    for message in reversed(messages):
        if message.get("role") == "user":
            text = " ".join(message_text(message).split())
            return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
    return None


def answer_tokens(messages: list[Json], count: int) -> list[str]:
    """The first ``count`` tokens of the answer to ``messages``, same request, same answer."""
    tokens = ["Stub", " answer", " " + request_digest(messages)]
    tokens += [f" [{n}]" for n in cited_numbers(messages)]
    quote = quote_of_last_user_message(messages)
    if quote is not None:
        tokens.append(f" re: “{quote}”")
    while len(tokens) < count:
        tokens.append(" " + FILLER_WORDS[len(tokens) % len(FILLER_WORDS)])
    return tokens[:count]


# --- request plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything needed to answer one chat completion request."""

    body: Json
    messages: list[Json]
    model: str
    stream: bool
    include_usage: bool
    tokens: list[str]
    finish_reason: str
    latency: float
    token_delay: float
    fault: str | None
    completion_id: str

    @property
    def usage(self) -> Json:
        prompt = prompt_tokens(self.messages)
        completion = len(self.tokens)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


def parse_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise HttpError(400, "request body must be a JSON object")
    return body


def header_number(headers: dict[str, str], name: str, default: float) -> float:
    if name not in headers:
        return default
    value = _number(name, headers[name])
    if value < 0:
        raise HttpError(400, f"{name} must not be negative")
    return value


def build_plan(body: Json, headers: dict[str, str], state: StubState, serial: int) -> Plan:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise HttpError(400, "messages must be a non-empty array")
    if not all(isinstance(m, dict) for m in messages):
        raise HttpError(400, "every message must be an object")
    config = state.config
    wanted = int(header_number(headers, "x-stub-tokens", config.tokens))
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    capped = isinstance(limit, int) and 0 < limit < wanted
    count = limit if capped else wanted
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise HttpError(400, "stream_options must be an object")
    fault = headers.get("x-stub-fault")
    return Plan(
        body=body,
        messages=messages,
        model=str(body.get("model") or config.model),
        stream=bool(body.get("stream")),
        include_usage=bool(stream_options.get("include_usage")),
        tokens=answer_tokens(messages, count),
        finish_reason="length" if capped else "stop",
        latency=header_number(headers, "x-stub-latency-ms", config.latency_ms) / 1000,
        token_delay=header_number(headers, "x-stub-token-delay-ms", config.token_delay_ms) / 1000,
        fault=_check_fault(fault) if fault else state.next_fault(),
        completion_id=f"chatcmpl-stub{serial:06d}{request_digest(messages)}",
    )


def completion_json(plan: Plan) -> Json:
    return {
        "id": plan.completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": plan.model,
        "system_fingerprint": "fp_llmstub",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(plan.tokens), "refusal": None},
                "logprobs": None,
                "finish_reason": plan.finish_reason,
            }
        ],
        "usage": plan.usage,
    }


def chunk_json(plan: Plan, created: int, delta: Json, finish_reason: str | None = None) -> Json:
    chunk: Json = {
        "id": plan.completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": plan.model,
        "system_fingerprint": "fp_llmstub",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if plan.include_usage:
        chunk["usage"] = None
    return chunk


def usage_chunk_json(plan: Plan, created: int) -> Json:
    chunk = chunk_json(plan, created, {})
    chunk["choices"] = []
    chunk["usage"] = plan.usage
    return chunk


def error_json(message: str, error_type: str, code: str | None = None) -> Json:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


# --- HTTP/1.1 plumbing ------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request, or None when the client closed the connection between requests.

    Raises ClientGone on a request this server cannot parse: it just drops the connection.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError as exc:
        raise ClientGone from exc
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    try:
        method, target, version = request_line.split(" ", 2)
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise ClientGone from exc
    body = await reader.readexactly(length)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
    return Request(method, target.split("?", 1)[0], headers, body, keep_alive)


def response_head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def encode_json(data: Json) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    status: int, data: Json, keep_alive: bool, headers: dict[str, str] | None = None
) -> bytes:
    payload = encode_json(data)
    head = {
        "content-type": "application/json",
        "content-length": str(len(payload)),
        "connection": "keep-alive" if keep_alive else "close",
        **(headers or {}),
    }
    return response_head(status, head) + payload


def sse_chunk(data: Json | str) -> bytes:
    """One SSE event framed as one HTTP chunk."""
    text = data if isinstance(data, str) else encode_json(data).decode()
    event = f"data: {text}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(event), event)


SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "transfer-encoding": "chunked",
}


async def wait_for_disconnect(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass


# --- the server -------------------------------------------------------------------------


class StubLLMServer:
    """Local OpenAI-compatible LLM for tests and benchmarks.

    In tests: ``with StubLLMServer(tokens=8) as llm: OpenAI(base_url=llm.base_url, ...)``
    runs it on an ephemeral port in a background thread. In an event loop of your own,
    use ``await start_async()`` and ``await stop_async()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency_ms: float = 0.0,
        token_delay_ms: float = 0.0,
        tokens: int = 16,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.state = StubState(StubConfig(latency_ms, token_delay_ms, tokens, model, api_key))
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._serial = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None

    # public API -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def configure(self, **changes: Any) -> StubConfig:
        """Change the defaults of the running server, e.g. ``configure(tokens=3)``."""
        return self.state.configure(changes)

    def queue_faults(self, *faults: str) -> list[str]:
        """Queue faults consumed one per chat completion request."""
        return self.state.queue_faults(list(faults))

    def stats(self) -> Json:
        return self.state.stats()

    def requests(self) -> list[Json]:
        """JSON bodies of the latest chat completion requests, oldest first."""
        return self.state.recent_requests()

    def reset(self) -> None:
        """Back to the constructor's configuration, with no queued faults and zero counters."""
        self.state.reset()

    async def start_async(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, self.host, self.port, limit=MAX_HEADER_BYTES, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop_async(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    def start(self) -> Self:
        """Serve from a background thread; returns once the port is bound."""
        ready = threading.Event()
        failure: list[OSError] = []
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run_in_thread(ready, failure)),
            name=f"llmstub-{self.port}",
            daemon=True,
        )
        self._thread.start()
        ready.wait()
        if self._server is None:
            cause = failure[0] if failure else None
            raise RuntimeError(f"llmstub could not listen on {self.url}") from cause
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None or self._stop_event is None:
            return
        self._loop.call_soon_threadsafe(self._stop_event.set)
        self._thread.join()
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _run_in_thread(self, ready: threading.Event, failure: list[OSError]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            await self.start_async()
        except OSError as exc:
            failure.append(exc)
            return
        finally:
            ready.set()
        await self._stop_event.wait()
        await self.stop_async()

    # connections ----------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self.state.count("connections")
        try:
            await self._serve_connection(reader, writer)
        except (ClientGone, ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Only stop_async() cancels these tasks. Ending normally keeps the stream
            # callback of Python 3.12.1 from logging every cancelled connection as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while (request := await read_request(reader)) is not None:
            try:
                await self._route(request, reader, writer)
            except HttpError as exc:
                self.state.count("rejected")
                error = error_json(str(exc), exc.error_type, exc.code)
                writer.write(json_response(exc.status, error, request.keep_alive))
            await writer.drain()
            if not request.keep_alive:
                return

    async def _route(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        key = (request.method, request.path.rstrip("/"))
        if key == ("POST", "/v1/chat/completions"):
            self._authorize(request)
            await self._chat_completion(request, reader, writer)
            return
        data = self._simple_route(key, request)
        writer.write(json_response(200, data, request.keep_alive))

    def _simple_route(self, key: tuple[str, str], request: Request) -> Json:
        match key:
            case ("GET", "/healthz"):
                return {"status": "ok"}
            case ("GET", "/v1/models"):
                self._authorize(request)
                return {"object": "list", "data": [self._model_json()]}
            case ("GET", "/_stub/stats"):
                return self.stats()
            case ("GET", "/_stub/requests"):
                return {"requests": self.requests()}
            case ("GET", "/_stub/config"):
                return self.state.config.public()
            case ("POST", "/_stub/config"):
                return self.state.configure(parse_body(request.body)).public()
            case ("POST", "/_stub/faults"):
                faults = parse_body(request.body).get("faults")
                if not isinstance(faults, list):
                    raise HttpError(400, "faults must be an array")
                return {"queued": self.state.queue_faults(faults)}
            case ("POST", "/_stub/reset"):
                self.reset()
                return {"status": "reset"}
        known = ("/healthz", "/v1/models", "/v1/chat/completions")
        if key[1] in known or key[1].startswith("/_stub/"):
            raise HttpError(405, f"{key[0]} is not allowed on {key[1]}")
        raise HttpError(404, f"no route for {key[1]}")

    def _model_json(self) -> Json:
        return {
            "id": self.state.config.model,
            "object": "model",
            "created": 0,
            "owned_by": "llmstub",
        }

    def _authorize(self, request: Request) -> None:
        api_key = self.state.config.api_key
        if api_key and request.headers.get("authorization") != f"Bearer {api_key}":
            self.state.count("unauthorized")
            raise HttpError(
                401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"
            )

    # chat completions -----------------------------------------------------------------

    async def _chat_completion(
        self, request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._serial += 1
        plan = build_plan(parse_body(request.body), request.headers, self.state, self._serial)
        self.state.begin(plan)
        try:
            if plan.fault is not None:
                self.state.count_fault(plan.fault)
                await self._fault(plan, request, reader, writer)
            elif plan.stream:
                await self._stream(plan, writer)
            else:
                await self._complete(plan, request, writer)
        except ConnectionError:
            self.state.count("disconnected")
            raise
        finally:
            self.state.end(plan)

    async def _complete(self, plan: Plan, request: Request, writer: asyncio.StreamWriter) -> None:
        generation = plan.latency + max(len(plan.tokens) - 1, 0) * plan.token_delay
        await asyncio.sleep(generation)
        self.state.finish(plan)
        writer.write(json_response(200, completion_json(plan), request.keep_alive))
        await writer.drain()

    async def _stream(self, plan: Plan, writer: asyncio.StreamWriter) -> None:
        created = int(time.time())
        loop = asyncio.get_running_loop()
        start = loop.time()
        await asyncio.sleep(plan.latency)
        role = chunk_json(plan, created, {"role": "assistant", "content": "", "refusal": None})
        writer.write(response_head(200, SSE_HEADERS) + sse_chunk(role))
        for index, token in enumerate(plan.tokens):
            # Deadlines rather than fixed sleeps, so pacing does not drift under load.
            delay = start + plan.latency + index * plan.token_delay - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(sse_chunk(chunk_json(plan, created, {"content": token})))
            await writer.drain()
        self.state.finish(plan)
        writer.write(sse_chunk(chunk_json(plan, created, {}, plan.finish_reason)))
        if plan.include_usage:
            writer.write(sse_chunk(usage_chunk_json(plan, created)))
        writer.write(sse_chunk("[DONE]") + b"0\r\n\r\n")
        await writer.drain()

    async def _fault(
        self,
        plan: Plan,
        request: Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        match plan.fault:
            case "500":
                error = error_json("The stub server had an error", "server_error")
                writer.write(json_response(500, error, request.keep_alive))
            case "429":
                error = error_json("Rate limit reached (stub)", "requests", "rate_limit_exceeded")
                retry = {"retry-after": "1", "retry-after-ms": "50"}
                writer.write(json_response(429, error, request.keep_alive, retry))
            case "hang":
                await wait_for_disconnect(reader)
                raise ClientGone
            case "timeout_first_token":
                await self._stall_before_first_token(plan, reader, writer)
            case "broken_stream":
                await self._broken_stream(plan, writer)

    async def _stall_before_first_token(
        self, plan: Plan, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """A stream gets its headers and role chunk, then nothing; a plain request just hangs."""
        if plan.stream:
            role = chunk_json(plan, int(time.time()), {"role": "assistant", "content": ""})
            writer.write(response_head(200, SSE_HEADERS) + sse_chunk(role))
            await writer.drain()
        await wait_for_disconnect(reader)
        raise ClientGone

    async def _broken_stream(self, plan: Plan, writer: asyncio.StreamWriter) -> None:
        """Send the first half of the answer, then close without finishing the body."""
        if plan.stream:
            created = int(time.time())
            writer.write(response_head(200, SSE_HEADERS))
            for token in plan.tokens[: max(len(plan.tokens) // 2, 1)]:
                writer.write(sse_chunk(chunk_json(plan, created, {"content": token})))
        else:
            payload = encode_json(completion_json(plan))
            head = {"content-type": "application/json", "content-length": str(len(payload))}
            writer.write(response_head(200, head) + payload[: len(payload) // 2])
        await writer.drain()
        raise ClientGone
