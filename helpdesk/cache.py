"""Django's Redis cache with one client, and so one connection pool, per process.

Django's cache handler builds a backend object per thread and per async context,
and `RedisCache` builds its client (with a new connection pool) per backend object,
so under ASGI every request opened new Redis connections. Its client also builds a
redis-py `Redis` object for every command, which costs more than the command itself.
redis-py clients are thread-safe, so a process shares one client and one `Redis`
object per server.

`async_client()` gives async code a native redis-py asyncio client on the same
server and pool limits (one per event loop), with `decode()` for the stored values,
for callers that batch several commands into one round trip.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any, ClassVar

import redis.asyncio
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(index)
                if client is None:
                    pool = self._get_connection_pool(write)
                    client = self._clients[index] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    """Clients are class-level: Django builds a backend object per request context."""

    _shared: ClassVar[dict[str, ReusingRedisCacheClient]] = {}
    _shared_async: ClassVar[
        weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, redis.asyncio.Redis]]
    ] = weakref.WeakKeyDictionary()
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    @cached_property
    def _key(self) -> str:
        return repr((self._servers, sorted(self._options.items())))

    @cached_property
    def _cache(self) -> ReusingRedisCacheClient:
        with self._lock:
            client = self._shared.get(self._key)
            if client is None:
                client = self._shared[self._key] = self._class(self._servers, **self._options)
            return client

    def async_client(self) -> redis.asyncio.Redis:
        """A native asyncio client for the running event loop (the write server)."""
        clients = self._shared_async.setdefault(asyncio.get_running_loop(), {})
        client = clients.get(self._key)
        if client is None:
            options = {
                key: value
                for key, value in self._options.items()
                if key in ("max_connections", "timeout")
            }
            pool = redis.asyncio.BlockingConnectionPool.from_url(self._servers[0], **options)
            client = clients[self._key] = redis.asyncio.Redis(connection_pool=pool)
        return client

    @classmethod
    async def aclose_async_clients(cls) -> None:
        """Close the running event loop's clients (at server shutdown)."""
        for client in cls._shared_async.pop(asyncio.get_running_loop(), {}).values():
            await client.aclose()

    def decode(self, raw: bytes | None) -> Any:
        """A value as `get()` would return it, from the raw bytes a command returned."""
        return None if raw is None else self._cache._serializer.loads(raw)
