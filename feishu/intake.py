"""Where received events enter, from the HTTP callback and from the long connection alike."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from feishu import handling
from feishu.inbound import json_object
from feishu.models import FeishuApp, InboundEvent
from feishu.services import inbound_event_record
from feishu.tasks import answer_message

logger = logging.getLogger(__name__)
MESSAGE_EVENT = "im.message.receive_v1"
CARD_ACTION = "card.action.trigger"


def event_type_of(payload: dict[str, Any]) -> str:
    return str(json_object(payload, "header").get("event_type", ""))


def message_receive(*, app: FeishuApp, payload: dict[str, Any], via: str) -> InboundEvent:
    """Record a message event (once per message id) and hand it to the task worker.

    The task backend is the database, so the task row is written in the event's
    transaction: one commit, and never an event without its task (or a task without
    its event), whenever the process dies.
    """
    with transaction.atomic():
        event, handle = inbound_event_record(
            app=app, kind=InboundEvent.Kind.MESSAGE, payload=payload, via=via
        )
        if handle:
            answer_message.enqueue(tenant_id=event.tenant_id, event_id=event.pk)
    return event


def card_action_receive(*, app: FeishuApp, payload: dict[str, Any], via: str) -> dict[str, Any]:
    """Apply a card action once (by its event id) and return the callback's answer."""
    event_id = str(json_object(payload, "header").get("event_id") or "")
    if not event_id:
        raise handling.MalformedEvent("header.event_id missing")
    event, handle = inbound_event_record(
        app=app,
        kind=InboundEvent.Kind.CARD_ACTION,
        payload=payload,
        via=via,
        message_id=f"action:{event_id}",
    )
    if not handle:
        return {}
    try:
        answer = handling.card_action_handle(app=app, payload=payload)
    except handling.MalformedEvent as exc:
        handling.inbound_event_finish(
            event=event, status=InboundEvent.Status.IGNORED, note=str(exc)
        )
        raise
    handling.inbound_event_finish(event=event, status=InboundEvent.Status.ANSWERED)
    return answer


def dispatch(*, app: FeishuApp, payload: dict[str, Any], via: str) -> dict[str, Any]:
    """Route one verified event by type; the response body for the callback."""
    kind = event_type_of(payload)
    if kind == MESSAGE_EVENT:
        message_receive(app=app, payload=payload, via=via)
        return {"msg": "success"}
    if kind == CARD_ACTION:
        return card_action_receive(app=app, payload=payload, via=via)
    logger.info("Feishu event of type %r from %s ignored.", kind, app.app_id)
    return {"msg": "ignored"}
