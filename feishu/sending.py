"""Calling the open platform within its limits: pace, retry, back off.

`call(app, operation, chat_id=...)` runs `operation(client, option)` (an SDK call) after
waiting for the shared per-app and per-chat limits. A rate-limit answer (HTTP 429 or
code 99991400) waits for `x-ogw-ratelimit-reset` and tries again; an expired token is
refreshed; server errors and network failures are retried with exponential back-off,
`feishu.max_attempts` times in all. Anything else raises FeishuAPIError at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import lark_oapi as lark
import requests
from lark_oapi.api.application.v6 import ListScopeRequest

from feishu import limits
from feishu.client import FeishuAPIError, forget_token, request_option, sdk_client
from feishu.models import FeishuApp
from helpdesk.config import get_config

logger = logging.getLogger(__name__)

RATE_LIMITED = 99991400
BAD_TOKEN_CODES = {99991661, 99991663, 99991664, 99991668}
MAX_RESET_WAIT = 60.0
BACKOFF_SECONDS = 0.2

Operation = Callable[[lark.Client, lark.RequestOption], Any]


def _header(response: Any, name: str) -> str | None:
    headers = (response.raw.headers if response.raw is not None else None) or {}
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _error(response: Any) -> FeishuAPIError:
    status = response.raw.status_code if response.raw is not None else 0
    reset = _header(response, "x-ogw-ratelimit-reset")
    retry_after = None
    if reset is not None:
        try:
            retry_after = min(max(float(reset), 0.0), MAX_RESET_WAIT)
        except ValueError:
            retry_after = None
    return FeishuAPIError(response.code or -1, response.msg or "", status, retry_after=retry_after)


def _retry_delay(error: FeishuAPIError, attempt: int) -> float | None:
    """Seconds to wait before the next attempt, or None when retrying cannot help."""
    if error.status == 429 or error.code == RATE_LIMITED:
        return error.retry_after if error.retry_after is not None else 1.0
    if error.code in BAD_TOKEN_CODES:
        return 0.0
    if error.status >= 500 or error.code == -1:
        return BACKOFF_SECONDS * 2 ** (attempt - 1)
    return None


def call(app: FeishuApp, operation: Operation, *, chat_id: str = "") -> Any:
    """Run one SDK call within the limits, retrying what can be retried."""
    config = get_config()
    scopes = [(f"app:{app.app_id}", config.get("feishu.app_messages_per_second"))]
    if chat_id:
        scopes.append(
            (f"chat:{app.app_id}:{chat_id}", config.get("feishu.chat_messages_per_second"))
        )
    attempts = config.get("feishu.max_attempts")
    last: FeishuAPIError | None = None
    for attempt in range(1, attempts + 1):
        try:
            limits.acquire(scopes)
            response = operation(sdk_client(app), request_option(app))
        except limits.RateLimitWait:
            last = FeishuAPIError(RATE_LIMITED, "local rate limit: no slot in time", 429)
            continue
        except requests.RequestException as exc:
            last = FeishuAPIError(-1, f"network: {type(exc).__name__}", 0)
        except FeishuAPIError as exc:  # the token could not be fetched
            last = exc
        else:
            if response.success():
                return response
            last = _error(response)
        delay = _retry_delay(last, attempt)
        if delay is None:
            raise last
        if last.code in BAD_TOKEN_CODES:
            forget_token(app)
        if attempt < attempts:
            logger.info("Feishu call of %s failed (%s); retry in %.1fs.", app.app_id, last, delay)
            time.sleep(delay)
    assert last is not None
    raise last


def granted_scopes(app: FeishuApp) -> set[str]:
    """The permissions (scopes) granted to the app, as the open platform lists them."""
    response = call(
        app,
        lambda client, option: client.application.v6.scope.list(
            ListScopeRequest.builder().build(), option
        ),
    )
    return {scope.scope_name for scope in (response.data.scopes or []) if scope.grant_status == 1}
