"""The channel-layer groups live connections meet in, and sending to them.

- `chat.session.<id>`: the customer's page(s) of the conversation and the desks that
  opened it;
- `chat.desk.<tenant id>`: every desk of the tenant (its queue of conversations).

On Redis in production, so any process reaches any connection. A channel layer that
fails is logged: a live event is never worth undoing a write for.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def session_group(session_id: int) -> str:
    return f"chat.session.{session_id}"


def desk_group(tenant_id: int) -> str:
    return f"chat.desk.{tenant_id}"


async def apublish(groups: list[str], event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    for group in groups:
        try:
            await layer.group_send(group, event)
        except Exception:
            logger.exception("Live event %s not sent to %s.", event["type"], group)
