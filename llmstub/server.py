"""A deterministic OpenAI-compatible chat completions server on bare asyncio streams.

Latency model: ``latency_ms`` is the time to the first token, ``token_delay_ms`` the gap
between consecutive tokens, so a full answer takes ``latency + (tokens - 1) * token_delay``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Self

from llmstub.answers import (
    Plan,
    build_plan,
    chunk_json,
    completion_json,
    error_json,
    parse_body,
    usage_chunk_json,
)
from llmstub.embeddings import embeddings_json
from llmstub.http import (
    SSE_HEADERS,
    Request,
    encode_json,
    json_response,
    read_request,
    response_head,
    sse_chunk,
    wait_for_disconnect,
)
from llmstub.state import (
    DEFAULT_MODEL,
    MAX_HEADER_BYTES,
    ClientGone,
    HttpError,
    Json,
    StubConfig,
    StubState,
)

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
        if key == ("POST", "/v1/embeddings"):
            self._authorize(request)
            self.state.count("embedding_requests")
            answer = embeddings_json(parse_body(request.body), self.state.config.model)
            writer.write(json_response(200, answer, request.keep_alive))
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
        known = ("/healthz", "/v1/models", "/v1/chat/completions", "/v1/embeddings")
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
