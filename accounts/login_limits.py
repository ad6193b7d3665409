"""Failed-login limits per username and per client address, for every way to log in.

Every login goes through Django's `authenticate()`, and so through
`accounts.backends.LimitedModelBackend`, which refuses any attempt (the right password
included) while the username or the client address is locked, counts failures and
clears the username's count on success. The API, the admin and the browsable API's
login forms call `login_check` first, only to say why they refuse. A caller without
an HTTP request (a WebSocket or Feishu login) passes `client_ip=` to `authenticate()`.

A username is locked whether it exists or not, so the answer never tells. A client
whose address is unknown is limited by username only.
Counters live in the shared cache, in process memory while it is unreachable.
"""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext as _

from helpdesk.client_address import UNKNOWN as UNKNOWN_ADDRESS
from helpdesk.config import get_config
from helpdesk.rate_limits import resilient_cache


class LoginLocked(Exception):
    def __init__(self, wait_seconds: int) -> None:
        self.wait_seconds = wait_seconds
        super().__init__(
            _("Too many failed login attempts. Try again in %(minutes)d minutes.")
            % {"minutes": max(1, wait_seconds // 60)}
        )


def _keys(client_ip: str | None, username: str) -> dict[str, str]:
    user_digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    keys = {"user": f"login-failures:user:{user_digest}"}
    # Without a known address (no socket peer, such as a Unix socket without a trusted
    # proxy) every such client would share one counter, and one of them could lock all
    # the others out: only the username's limit applies.
    if client_ip and client_ip != UNKNOWN_ADDRESS:
        keys["ip"] = f"login-failures:ip:{client_ip}"
    return keys


def login_check(*, client_ip: str | None, username: str) -> None:
    """Raise LoginLocked when the username or the client address is locked."""
    config = get_config()
    limits = {
        "user": config.get("security.login_failures_per_user"),
        "ip": config.get("security.login_failures_per_ip"),
    }
    keys = _keys(client_ip, username)
    counts = resilient_cache.get_many(list(keys.values()))
    if any(counts.get(key, 0) >= limits[kind] for kind, key in keys.items()):
        raise LoginLocked(config.get("security.login_window_seconds"))


def login_failed(*, client_ip: str | None, username: str) -> None:
    window = get_config().get("security.login_window_seconds")
    for key in _keys(client_ip, username).values():
        resilient_cache.count(key, timeout=window)


def login_succeeded(*, username: str) -> None:
    """Clear the username's failures (the address's stay: it may be guessing others)."""
    resilient_cache.delete(_keys(None, username)["user"])
