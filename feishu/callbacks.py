"""One Feishu callback request, whichever way it arrives (Django view or the ASGI fast path).

Decrypted with the app's encrypt key, its signature and verification token checked, its
timestamp within the replay window; a request that fails gets a 4xx and nothing is
recorded. A message is only recorded here and answered by the task worker, so the
callback answers well within Feishu's 3-second deadline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from feishu import intake, selectors
from feishu.inbound import MalformedEvent
from feishu.verification import CallbackRejected, open_callback
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope

logger = logging.getLogger(__name__)
MAX_BODY = 512 * 1024


def handle_callback(
    *, app_id: str, body: bytes, headers: Mapping[str, str], cards: bool
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON answer) of one event (cards=False) or card-action request."""
    if len(body) > MAX_BODY:
        return 413, {"msg": "body too large"}
    app = selectors.callback_app(app_id)
    if app is None:
        return 404, {"msg": "unknown app"}
    with tenant_scope(app.tenant):
        try:
            callback = open_callback(
                body=body,
                headers=headers,
                encrypt_key=app.encrypt_key,
                verification_token=app.verification_token,
                window_seconds=get_config().get("feishu.replay_window_seconds"),
            )
        except CallbackRejected as exc:
            logger.warning("Feishu callback for %s refused: %s", app_id, exc.reason)
            return exc.status, {"msg": exc.reason}
        if callback.challenge is not None:
            return 200, {"challenge": callback.challenge}
        if cards and intake.event_type_of(callback.payload) != intake.CARD_ACTION:
            return 400, {"msg": "not a card action"}
        try:
            return 200, intake.dispatch(app=app, payload=callback.payload, via="http")
        except MalformedEvent as exc:
            return 400, {"msg": str(exc)}
