"""Reading a streamed chat completion, and when to retry a failed attempt.

Streams are read from the SDK's raw response (`with_streaming_response`) and each
`data:` line is parsed with json.loads. The SDK's own stream builds a pydantic object
per chunk, the largest single cost of a streamed answer (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai

from llm.calls import Call
from llm.errors import LLMProviderError, is_refused_connection

RETRY_STATUSES = frozenset({408, 409, 429})
MAX_RETRY_AFTER_SECONDS = 60.0
_END = object()


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


def stream_chunks(lines: Iterator[str]) -> Iterator[Any]:
    ended = False
    for line in lines:
        payload = _sse_payload(line)
        if payload is _END:
            # Read on to the end of the body, so the connection can be reused.
            ended = True
        elif payload is not None and not ended:
            yield payload


async def astream_chunks(lines: AsyncIterator[str]) -> AsyncIterator[Any]:
    ended = False
    async for line in lines:
        payload = _sse_payload(line)
        if payload is _END:
            ended = True
        elif payload is not None and not ended:
            yield payload


def retry_after(headers: Any) -> float | None:
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        try:
            delay = float(headers.get(name)) / divisor
        except (TypeError, ValueError):
            continue
        if 0 <= delay <= MAX_RETRY_AFTER_SECONDS:
            return delay
    return None


def retry_delay(call: Call, exc: Exception) -> float | None:
    """Seconds to wait before the next attempt, or None to give up."""
    assert call.settings is not None
    if call.attempts > call.settings.max_retries:
        return None
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code not in RETRY_STATUSES and exc.status_code < 500:
            return None
        delay = retry_after(exc.response.headers)
    elif is_refused_connection(exc):
        delay = None
    else:
        return None
    if delay is None:
        delay = min(0.5 * 2 ** (call.attempts - 1), 8.0) * (1 - 0.25 * random.random())
    left = call.deadline - time.perf_counter()
    return delay if delay < left else None
