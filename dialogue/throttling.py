"""Request limits of the chat API (DRF throttles).

Web visitors are counted by `dialogue.pipeline.admission` (one key per visitor and
minute, shared by every entry point). The chat stream's fast path counts a request
itself; when it hands the request over to Django, the count it took travels in the ASGI
scope and is not taken again. Staff are limited by DRF's per-user rate instead.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, UserRateThrottle

from dialogue.authentication import Visitor
from dialogue.pipeline.admission import count_visitor_request, seconds_to_next_window
from helpdesk.config import get_config

COUNTED_SCOPE_KEY = "helpdesk.visitor_request_count"


class VisitorRateThrottle(BaseThrottle):
    """Per web visitor: `dialogue.visitor_rate_per_minute`. Others pass."""

    def allow_request(self, request, view) -> bool:
        user = request.user
        if not isinstance(user, Visitor):
            return True
        scope = getattr(request, "scope", None) or {}
        count = scope.get(COUNTED_SCOPE_KEY)
        if count is None:
            count = count_visitor_request(user.tenant_id, user.visitor_id)
        return count <= get_config().get("dialogue.visitor_rate_per_minute")

    def wait(self) -> float:
        return seconds_to_next_window()


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
