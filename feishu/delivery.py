"""Queueing messages to Feishu: staff replies to a Feishu customer, notices, alerts.

The dialogue app calls `deliver_agent_message(session=..., message=...)` for a session
of channel `feishu` when a support agent answers; the message is sent by the task
worker, within the rate limits, to the chat the customer last wrote to the bot from.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from feishu.models import FeishuApp, InboundEvent, OutboundMessage
from feishu.tasks import send_outbound


def outbound_queue(
    *, app: FeishuApp, purpose: str, msg_type: str, content: dict[str, Any], **target: Any
) -> OutboundMessage:
    """Record a message to send and enqueue its sending once the transaction commits."""
    with transaction.atomic():
        outbound = OutboundMessage.objects.create(
            app=app, purpose=purpose, msg_type=msg_type, content=content, **target
        )
        transaction.on_commit(
            partial(send_outbound.enqueue, tenant_id=outbound.tenant_id, outbound_id=outbound.pk)
        )
    return outbound


# A message the bot took up (answered, or failed to answer): ignored ones (in a group
# without mentioning the bot, malformed, duplicates) and ones not yet handled say
# nothing about where the user talks to the bot.
TAKEN_UP = (InboundEvent.Status.ANSWERED, InboundEvent.Status.FAILED)


def _last_message_from(open_id: str) -> InboundEvent | None:
    return (
        InboundEvent.objects.filter(
            kind=InboundEvent.Kind.MESSAGE, open_id=open_id, status__in=TAKEN_UP
        )
        .exclude(chat_id="")
        .select_related("app")
        .order_by("-received_at", "-id")
        .first()
    )


def deliver_agent_message(*, session: Any, message: Any) -> OutboundMessage | None:
    """Send a support agent's reply to the Feishu user of `session` (once per message).

    Returns None when the user never wrote to any of the tenant's apps (nowhere to send).
    """
    existing = OutboundMessage.objects.filter(dialogue_message=message).first()
    if existing is not None:
        return existing
    last = _last_message_from(session.external_user_id)
    if last is None:
        return None
    return outbound_queue(
        app=last.app,
        purpose=OutboundMessage.Purpose.AGENT_REPLY,
        msg_type="text",
        content={"text": message.content},
        chat_id=last.chat_id,
        dialogue_message=message,
    )
