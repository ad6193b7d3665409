"""Admission: whether a customer may send another message now.

Web visitors may make `dialogue.visitor_rate_per_minute` requests per minute, counted
per fixed minute in the shared cache, so every process and every entry point counts
against the same key (`visitor_window_key`). DRF's views count with the cache API
(`count_visitor_request`, through `dialogue.throttling.VisitorRateThrottle`); async
entry points count with `VisitorRateAdmission`, natively on the shared Redis cache.
Without a working cache both count in the process's own memory
(`helpdesk.rate_limits.resilient_cache`, which logs the outage): a limit per process
for as long as the outage lasts, and a customer's message is never refused for it.
"""

from __future__ import annotations

import time
from typing import Protocol

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.utils.translation import gettext as _

from dialogue.pipeline.errors import TooManyRequests
from dialogue.pipeline.values import IncomingMessage, TurnSettings
from helpdesk.cache import SharedClientRedisCache
from helpdesk.rate_limits import resilient_cache

WINDOW_SECONDS = 60


class Admission(Protocol):
    async def admit(self, incoming: IncomingMessage, settings: TurnSettings) -> None:
        """Return to admit the message; raise TooManyRequests to refuse it."""
        ...


class AlreadyAdmitted:
    """The entry point admitted the request itself (DRF's throttles, for example)."""

    async def admit(self, incoming: IncomingMessage, settings: TurnSettings) -> None:
        return None


class VisitorRateAdmission:
    """Counts one request of the visitor per message; `count` holds the count taken."""

    def __init__(self) -> None:
        self.count: int | None = None

    async def admit(self, incoming: IncomingMessage, settings: TurnSettings) -> None:
        self.count = await acount_visitor_request(incoming.tenant_id, incoming.external_user_id)
        if self.count > settings.visitor_rate_per_minute:
            raise TooManyRequests(
                _("Too many messages. Please wait a moment."), retry_after=seconds_to_next_window()
            )


def visitor_window_key(tenant_id: int, visitor_id: str, now: float) -> str:
    return f"throttle:chat-visitor:{tenant_id}:{visitor_id}:{int(now // WINDOW_SECONDS)}"


def seconds_to_next_window() -> float:
    return WINDOW_SECONDS - time.time() % WINDOW_SECONDS


def count_visitor_request(tenant_id: int, visitor_id: str) -> int:
    """Count a request in the visitor's current minute; returns the count, this one
    included."""
    key = visitor_window_key(tenant_id, visitor_id, time.time())
    return resilient_cache.count(key, timeout=2 * WINDOW_SECONDS)


async def acount_visitor_request(tenant_id: int, visitor_id: str) -> int:
    """`count_visitor_request` from the event loop: one native round trip on the shared
    Redis cache; other caches (the embedded default's in-memory one) count through the
    cache API in a worker thread."""
    shared = caches["default"]
    if not isinstance(shared, SharedClientRedisCache):
        return await sync_to_async(count_visitor_request)(tenant_id, visitor_id)
    key = shared.make_and_validate_key(visitor_window_key(tenant_id, visitor_id, time.time()))
    try:
        async with shared.async_client().pipeline(transaction=False) as commands:
            commands.incr(key)
            commands.expire(key, 2 * WINDOW_SECONDS)
            count, _expiry = await commands.execute()
    except Exception:
        # The process's own counter; `count_visitor_request` logs the outage. It goes
        # through the cache API, which blocks: in a worker thread, as above.
        return await sync_to_async(count_visitor_request)(tenant_id, visitor_id)
    return count
