"""The product's one LLM client, on the official openai SDK (sync and native async).

    client = get_llm_client()
    if client.is_configured():
        result = client.complete(messages, purpose="chat")            # or await acomplete(...)
        async for item in client.astream(messages, purpose="chat"):   # or stream(...)
            ...  # StreamDelta(text=...) items, then one LLMResult

Configuration is the ConfigService `llm` section, read once per call (or passed in as
a snapshot the caller read already), so a change made through the config API takes
effect at the next call. SDK clients (and their
connection pools) are cached per process by a fingerprint of base URL and API key
(`llm.sdk`).

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
through the caller's `CallRecorder` (`llm.recording`; calls without a tenant scope
are refused before anything is sent): outcome ok, error (with the error type) or
cancelled (the caller stopped a stream or its task was cancelled). Tokens come from
the provider's usage, streams included; when a stream breaks before its usage
arrives, the tokens are estimated from the text and the row says
`usage_reported=False`.

Errors are typed (`llm.errors`, each with an `error_type` code and the `call_id` of
its row); API keys never appear in messages or logs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import openai

from helpdesk.tenancy import current_tenant
from llm.calls import Call, LLMResult, StreamDelta
from llm.choices import Outcome, Purpose
from llm.recording import ORM_RECORDER, CallRecorder, afail, fail
from llm.sdk import SDKClients
from llm.settings import LLMSettings
from llm.streaming import astream_chunks, retry_delay, stream_chunks


class LLMClient:
    """Stateless facade: configuration is read per call, SDK clients are cached."""

    def __init__(self) -> None:
        self._clients = SDKClients()

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
        settings: LLMSettings | None = None,
        recorder: CallRecorder = ORM_RECORDER,
    ) -> LLMResult:
        call = _begin(messages, purpose, False, max_tokens, temperature, timeout)
        try:
            call.settings = settings or LLMSettings.load()
            sdk = self._clients.sync(call.settings)
            completion = self._attempts(
                call, lambda left: sdk.chat.completions.create(**call.request(), timeout=left)
            )
            call.take_completion(completion)
        except BaseException as exc:
            fail(call, exc, recorder)
        return call.result(recorder.record(call.row(Outcome.OK)))

    def stream(
        self,
        messages: list[dict],
        *,
        purpose: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        settings: LLMSettings | None = None,
        recorder: CallRecorder = ORM_RECORDER,
    ) -> Iterator[StreamDelta | LLMResult]:
        call = _begin(messages, purpose, True, max_tokens, temperature, timeout)
        try:
            call.settings = settings or LLMSettings.load()
            sdk = self._clients.sync(call.settings)
            response = self._attempts(
                call,
                lambda left: sdk.chat.completions.with_streaming_response.create(
                    **call.request(), timeout=left
                ).__enter__(),
            )
            try:
                for chunk in stream_chunks(response.iter_lines()):
                    text = call.take_chunk(chunk)
                    call.time_left()
                    if text:
                        yield StreamDelta(text)
            finally:
                response.close()
            call.check_stream_complete()
        except BaseException as exc:
            fail(call, exc, recorder)
        yield call.result(recorder.record(call.row(Outcome.OK)))

    def _attempts[T](self, call: Call, send: Callable[[float], T]) -> T:
        while True:
            left = call.time_left()
            call.attempts += 1
            try:
                return send(left)
            except (openai.APIStatusError, openai.APIConnectionError) as exc:
                delay = retry_delay(call, exc)
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
        settings: LLMSettings | None = None,
        recorder: CallRecorder = ORM_RECORDER,
    ) -> LLMResult:
        call = _begin(messages, purpose, False, max_tokens, temperature, timeout)
        try:
            call.settings = settings or LLMSettings.load()
            sdk = self._clients.async_(call.settings)
            completion = await self._aattempts(
                call, lambda left: sdk.chat.completions.create(**call.request(), timeout=left)
            )
            call.take_completion(completion)
        except BaseException as exc:
            await afail(call, exc, recorder)
        return call.result(await recorder.arecord(call.row(Outcome.OK)))

    async def astream(
        self,
        messages: list[dict],
        *,
        purpose: str,
        max_tokens: int | None = None,
        temperature: float | None = None,
        timeout: float | None = None,
        settings: LLMSettings | None = None,
        recorder: CallRecorder = ORM_RECORDER,
    ) -> AsyncIterator[StreamDelta | LLMResult]:
        call = _begin(messages, purpose, True, max_tokens, temperature, timeout)
        try:
            call.settings = settings or LLMSettings.load()
            sdk = self._clients.async_(call.settings)
            response = await self._aattempts(
                call,
                lambda left: sdk.chat.completions.with_streaming_response.create(
                    **call.request(), timeout=left
                ).__aenter__(),
            )
            try:
                chunks = astream_chunks(response.iter_lines())
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
            await afail(call, exc, recorder)
        yield call.result(await recorder.arecord(call.row(Outcome.OK)))

    async def _aattempts[T](self, call: Call, send: Callable[[float], Awaitable[T]]) -> T:
        while True:
            left = call.time_left()
            call.attempts += 1
            try:
                async with asyncio.timeout(left):
                    return await send(left)
            except (openai.APIStatusError, openai.APIConnectionError) as exc:
                delay = retry_delay(call, exc)
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
) -> Call:
    """Refuse programming errors before anything is sent or recorded."""
    if purpose not in Purpose.values:
        raise ValueError(f"Unknown LLM purpose {purpose!r}; expected one of {Purpose.values}.")
    if not messages:
        raise ValueError("An LLM call needs at least one message.")
    current_tenant()
    return Call(list(messages), purpose, stream, max_tokens, temperature, timeout)


_client = LLMClient()


def get_llm_client() -> LLMClient:
    """The process-wide LLM client."""
    return _client
