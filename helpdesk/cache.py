"""Django's Redis cache with one client, and so one connection pool, per process.

Django's cache handler builds a backend object per thread and per async context,
and `RedisCache` builds its client (with a new connection pool) per backend object,
so under ASGI every request opened new Redis connections. Its client also builds a
redis-py `Redis` object for every command, which costs more than the command itself.
redis-py clients are thread-safe, so a process shares one client and one `Redis`
object per server.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

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
    _shared: ClassVar[dict[str, ReusingRedisCacheClient]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    @cached_property
    def _cache(self) -> ReusingRedisCacheClient:
        key = repr((self._servers, sorted(self._options.items())))
        with self._lock:
            client = self._shared.get(key)
            if client is None:
                client = self._shared[key] = self._class(self._servers, **self._options)
            return client
