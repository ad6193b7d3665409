"""lark-oapi clients per app, and the tenant access token in the shared cache.

Every outbound call goes through the SDK's client, built with `enable_set_token` so the
token comes from here: cached in the shared cache (Redis in production) until
`feishu.token_refresh_margin_seconds` before it expires, and refreshed by one process at
a time (a cache lock); the others wait for it and read the new token.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Any

import lark_oapi as lark
from django.core.cache import cache
from lark_oapi.api.auth.v3 import (
    InternalTenantAccessTokenRequest,
    InternalTenantAccessTokenRequestBody,
)

from feishu.models import FeishuApp
from helpdesk.config import get_config

logger = logging.getLogger(__name__)

LOCK_SECONDS = 15
WAIT_FOR_OTHER_SECONDS = 5.0
_clients: dict[tuple[str, str, str, float], lark.Client] = {}
_clients_lock = threading.Lock()


class FeishuAPIError(Exception):
    """The open platform refused a call (or could not be reached)."""

    def __init__(self, code: int, msg: str, status: int = 0, *, retry_after: float | None = None):
        super().__init__(f"Feishu error {code} (HTTP {status}): {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after = retry_after


def sdk_client(app: FeishuApp) -> lark.Client:
    """One lark-oapi client per app credentials, domain and timeout, shared by threads."""
    timeout = get_config().get("feishu.request_timeout_seconds")
    secret_digest = hashlib.sha256(app.app_secret.encode()).hexdigest()
    key = (app.app_id, secret_digest, app.base_url, timeout)
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = (
                    lark.Client.builder()
                    .app_id(app.app_id)
                    .app_secret(app.app_secret)
                    .domain(app.base_url)
                    .timeout(timeout)
                    .enable_set_token(True)
                    .log_level(lark.LogLevel.WARNING)
                    .build()
                )
    return client


def _token_key(app: FeishuApp) -> str:
    return f"feishu:token:{app.app_id}"


def _fetch_token(app: FeishuApp) -> tuple[str, int]:
    request = (
        InternalTenantAccessTokenRequest.builder()
        .request_body(
            InternalTenantAccessTokenRequestBody.builder()
            .app_id(app.app_id)
            .app_secret(app.app_secret)
            .build()
        )
        .build()
    )
    response = sdk_client(app).auth.v3.tenant_access_token.internal(request)
    status = response.raw.status_code if response.raw is not None else 0
    try:
        body: dict[str, Any] = json.loads(response.raw.content) if response.raw else {}
    except ValueError:
        body = {}
    if response.code != 0 or not body.get("tenant_access_token"):
        raise FeishuAPIError(response.code or -1, response.msg or "no token", status)
    return body["tenant_access_token"], int(body.get("expire", 0))


def cache_seconds(expire: int, margin: int) -> int:
    """How long to keep a token valid for `expire` seconds: until `margin` before it
    expires, or half its life when it is shorter than the margin."""
    return expire - margin if expire > margin else max(expire // 2, 1)


def tenant_token(app: FeishuApp) -> str:
    """The app's tenant access token: from the shared cache, or fetched by one process."""
    cached = cache.get(_token_key(app))
    if cached:
        return cached
    lock = f"{_token_key(app)}:refresh"
    locked = cache.add(lock, 1, timeout=LOCK_SECONDS)
    if not locked:
        deadline = time.monotonic() + WAIT_FOR_OTHER_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
            cached = cache.get(_token_key(app))
            if cached:
                return cached
        logger.warning("Feishu token refresh of %s is slow; fetching one here.", app.app_id)
    try:
        # Another process may have refreshed it between our read and our lock.
        cached = cache.get(_token_key(app))
        if cached:
            return cached
        token, expire = _fetch_token(app)
        margin = get_config().get("feishu.token_refresh_margin_seconds")
        cache.set(_token_key(app), token, timeout=cache_seconds(expire, margin))
        return token
    finally:
        if locked:
            cache.delete(lock)


def forget_token(app: FeishuApp) -> None:
    """Drop a token the platform no longer accepts."""
    cache.delete(_token_key(app))


def request_option(app: FeishuApp) -> lark.RequestOption:
    return lark.RequestOption.builder().tenant_access_token(tenant_token(app)).build()
