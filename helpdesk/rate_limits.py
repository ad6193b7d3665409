"""Request limits that survive a cache outage, keyed by the trusted client address.

Counters live in the shared cache (Redis in production) so that every instance counts
together. When the cache is unreachable, `ResilientCache` keeps counting in the
process's own memory and logs the outage once per interval: limits then hold per
process instead of failing every request, and the shared counters are used again as
soon as the cache answers.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.cache import cache as shared_cache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework import throttling

from helpdesk.client_address import client_address
from helpdesk.outages import Outage, log_outage, outage_of


class ResilientCache:
    """The few cache operations counters need, falling back to process memory."""

    def __init__(self) -> None:
        self._local = LocMemCache("helpdesk-rate-limits", {"OPTIONS": {"MAX_ENTRIES": 100_000}})

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(shared_cache, operation)(*args, **kwargs)
        except Exception as exc:
            if outage_of(exc) is not Outage.CACHE:
                raise
            log_outage(Outage.CACHE, exc, where="rate limits (counting in process memory)")
            return getattr(self._local, operation)(*args, **kwargs)

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", key, default)

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        return self._call("get_many", keys)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self._call("set", key, value, timeout)

    def add(self, key: str, value: Any, timeout: float | None = None) -> bool:
        return self._call("add", key, value, timeout)

    def incr(self, key: str, delta: int = 1) -> int:
        return self._call("incr", key, delta)

    def delete(self, key: str) -> None:
        self._call("delete", key)

    def count(self, key: str, *, timeout: float) -> int:
        """Add one to the counter at `key` (created with `timeout`); the new count."""
        if self.add(key, 1, timeout):
            return 1
        try:
            return self.incr(key)
        except ValueError:  # expired between add() and incr()
            self.add(key, 1, timeout)
            return 1

    def clear_local(self) -> None:
        """Forget the in-process counters (tests)."""
        self._local.clear()


resilient_cache = ResilientCache()


class AnonRateThrottle(throttling.AnonRateThrottle):
    """DRF's anonymous rate, per trusted client address, surviving a cache outage.

    Clients whose address is unknown (no socket peer) share one bucket: an anonymous
    request has nothing else to be told apart by, and no limit at all would be worse.
    (Logins have no anonymous rate: their limits are per username and known address.)
    """

    cache = resilient_cache

    def get_ident(self, request) -> str:
        return client_address(request)


class UserRateThrottle(throttling.UserRateThrottle):
    """DRF's per-user rate for users of the user model; other principals (such as chat
    visitors, who have their own limit) pass. Survives a cache outage."""

    cache = resilient_cache

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if user.is_authenticated and not isinstance(user, AbstractBaseUser):
            return None
        return super().get_cache_key(request, view)

    def get_ident(self, request) -> str:
        return client_address(request)
