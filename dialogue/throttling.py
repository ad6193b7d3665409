"""Request limits of the chat API (DRF throttles).

Web visitors are counted by `dialogue.pipeline.admission` (one key per visitor and
minute, shared by every entry point). The chat stream's fast path counts a request
itself; when it hands the request over to Django, the count it took travels in the ASGI
scope and is not taken again. Staff are limited by the project's per-user rate
(`helpdesk.rate_limits.UserRateThrottle`, which lets visitors pass).
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

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


# The project's throttles and the visitor limit.
CHAT_THROTTLES = [*api_settings.DEFAULT_THROTTLE_CLASSES, VisitorRateThrottle]
