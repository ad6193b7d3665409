"""Failed-login limits per username and per client IP, kept in the shared cache."""

import hashlib

from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from helpdesk.config import get_config


class LoginThrottled(Throttled):
    default_code = "login_throttled"


def _keys(request: Request, username: str) -> dict[str, str]:
    user_digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    ip = BaseThrottle().get_ident(request)
    return {"user": f"login-failures:user:{user_digest}", "ip": f"login-failures:ip:{ip}"}


def check_login_allowed(request: Request, username: str) -> None:
    config = get_config()
    limits = {
        "user": config.get("security.login_failures_per_user"),
        "ip": config.get("security.login_failures_per_ip"),
    }
    keys = _keys(request, username)
    counts = cache.get_many(list(keys.values()))
    for kind, key in keys.items():
        if counts.get(key, 0) >= limits[kind]:
            window = config.get("security.login_window_seconds")
            raise LoginThrottled(
                wait=window,
                detail=_("Too many failed login attempts. Try again in %(minutes)d minutes.")
                % {"minutes": max(1, window // 60)},
            )


def record_login_failure(request: Request, username: str) -> None:
    window = get_config().get("security.login_window_seconds")
    for key in _keys(request, username).values():
        if not cache.add(key, 1, timeout=window):
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, 1, timeout=window)


def clear_login_failures(request: Request, username: str) -> None:
    cache.delete(_keys(request, username)["user"])
