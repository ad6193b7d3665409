"""The openai SDK clients, per configuration fingerprint; the async ones per event loop.

A connection pool belongs to the event loop that opened it, so async clients are kept
per loop. The async clients send over aiohttp (the SDK's `DefaultAioHttpClient`), which reads
a streamed answer with less CPU per chunk than the default httpx transport
(docs/benchmarks.md, chat pipeline).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable

import openai
from openai import AsyncOpenAI, OpenAI

from llm.errors import LLMBadConfiguration
from llm.settings import LLMSettings

MAX_CACHED_CLIENTS = 4
# Longer than any call may last: llm.timeout_seconds is at most 600 s.
CLOSE_STALE_CLIENT_AFTER_SECONDS = 900.0


class SDKClients:
    """SDK clients per configuration fingerprint, the async ones per event loop too."""

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
