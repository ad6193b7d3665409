"""Request limits of the chat API.

A web visitor may make `dialogue.visitor_rate_per_minute` requests per minute, counted
per fixed minute in the shared cache (one atomic increment), so that the DRF views and
the streaming fast path (`dialogue.fast_stream`) count against the same key. The fast
path counts its requests itself, in `pipeline.prepare_web_turn`'s Redis round trip;
when it hands a request over to Django, the count it took travels in the ASGI scope
and is not taken again. Staff are limited by DRF's per-user rate instead.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, UserRateThrottle

from dialogue.authentication import Visitor
from helpdesk.config import get_config

if TYPE_CHECKING:
    import redis.asyncio.client

WINDOW_SECONDS = 60
COUNTED_SCOPE_KEY = "helpdesk.visitor_request_count"


def _window_key(tenant_id: int, visitor_id: str, now: float) -> str:
    return f"throttle:chat-visitor:{tenant_id}:{visitor_id}:{int(now // WINDOW_SECONDS)}"


def visitor_limit() -> int:
    return get_config().get("dialogue.visitor_rate_per_minute")


def queue_visitor_count(
    commands: redis.asyncio.client.Pipeline, tenant_id: int, visitor_id: str
) -> None:
    """Queue the count of a request in the visitor's current minute on a Redis pipeline
    (of the shared Redis cache, `helpdesk.cache.SharedClientRedisCache`). Its first
    result is the count so far, this request included; its second, the expiry set."""
    key = cache.make_and_validate_key(_window_key(tenant_id, visitor_id, time.time()))
    commands.incr(key)
    commands.expire(key, 2 * WINDOW_SECONDS)


def _count_visitor_request(tenant_id: int, visitor_id: str) -> int:
    key = _window_key(tenant_id, visitor_id, time.time())
    # A window's key lives twice as long as the window, so it cannot expire between
    # these two calls while the window is current.
    if cache.add(key, 1, timeout=2 * WINDOW_SECONDS):
        return 1
    return cache.incr(key)


class VisitorRateThrottle(BaseThrottle):
    """Per web visitor: `dialogue.visitor_rate_per_minute`. Others pass."""

    def allow_request(self, request, view) -> bool:
        user = request.user
        if not isinstance(user, Visitor):
            return True
        scope = getattr(request, "scope", None) or {}
        count = scope.get(COUNTED_SCOPE_KEY)
        if count is None:
            count = _count_visitor_request(user.tenant_id, user.visitor_id)
        return count <= visitor_limit()

    def wait(self) -> float:
        return WINDOW_SECONDS - time.time() % WINDOW_SECONDS


class StaffRateThrottle(UserRateThrottle):
    """DRF's per-user rate, for staff only: visitors have their own limit."""

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.user, Visitor):
            return None
        return super().get_cache_key(request, view)


# The project's throttles, with the per-user rate for staff only, and the visitor limit.
CHAT_THROTTLES = [
    *(
        StaffRateThrottle if throttle is UserRateThrottle else throttle
        for throttle in api_settings.DEFAULT_THROTTLE_CLASSES
    ),
    VisitorRateThrottle,
]
