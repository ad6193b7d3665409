"""Sending messages and cards to Feishu, each recorded as an OutboundMessage."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.utils import timezone
from lark_oapi.api.im.v1 import (
    CreateMessageRequest,
    CreateMessageRequestBody,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)

from feishu import sending
from feishu.client import FeishuAPIError
from feishu.models import FeishuApp, OutboundMessage
from helpdesk.config import get_config

logger = logging.getLogger(__name__)


def _operation(outbound: OutboundMessage) -> sending.Operation:
    content = json.dumps(outbound.content, ensure_ascii=False)
    if outbound.reply_to:
        request = (
            ReplyMessageRequest.builder()
            .message_id(outbound.reply_to)
            .request_body(
                ReplyMessageRequestBody.builder()
                .msg_type(outbound.msg_type)
                .content(content)
                .uuid(f"hd-{outbound.tenant_id}-{outbound.pk}")
                .build()
            )
            .build()
        )
        return lambda client, option: client.im.v1.message.reply(request, option)
    request = (
        CreateMessageRequest.builder()
        .receive_id_type("chat_id")
        .request_body(
            CreateMessageRequestBody.builder()
            .receive_id(outbound.chat_id)
            .msg_type(outbound.msg_type)
            .content(content)
            .uuid(f"hd-{outbound.tenant_id}-{outbound.pk}")
            .build()
        )
        .build()
    )
    return lambda client, option: client.im.v1.message.create(request, option)


def outbound_send(*, outbound: OutboundMessage) -> OutboundMessage:
    """Send a pending message now (the task does this); record success or failure."""
    if outbound.status != OutboundMessage.Status.PENDING:
        return outbound
    try:
        response = sending.call(outbound.app, _operation(outbound), chat_id=outbound.chat_id)
    except FeishuAPIError as exc:
        outbound.status = OutboundMessage.Status.FAILED
        outbound.last_error = str(exc)[:500]
        outbound.attempts = get_config().get("feishu.max_attempts")
        logger.warning("Feishu message %s failed: %s", outbound.pk, exc)
    else:
        outbound.status = OutboundMessage.Status.SENT
        outbound.feishu_message_id = response.data.message_id or ""
        outbound.attempts += 1
    outbound.finished_at = timezone.now()
    outbound.save(
        update_fields=["status", "last_error", "attempts", "feishu_message_id", "finished_at"]
    )
    return outbound


class CardStream:
    """An answer card that grows as the answer streams: sent on the first text, then
    updated at most every `feishu.card_update_interval_ms`, and once more at the end."""

    def __init__(self, *, app: FeishuApp, reply_to: str, chat_id: str) -> None:
        self.app = app
        self.reply_to = reply_to
        self.chat_id = chat_id
        self.outbound: OutboundMessage | None = None
        self._last_update = 0.0
        self._pending: dict[str, Any] | None = None
        self._interval = get_config().get("feishu.card_update_interval_ms") / 1000

    @property
    def message_id(self) -> str:
        return self.outbound.feishu_message_id if self.outbound is not None else ""

    def show(self, card: dict[str, Any], *, final: bool = False) -> None:
        if self.outbound is None:
            self.outbound = OutboundMessage.objects.create(
                app=self.app,
                purpose=OutboundMessage.Purpose.ANSWER,
                msg_type="interactive",
                content=card,
                reply_to=self.reply_to,
                chat_id=self.chat_id,
            )
            outbound_send(outbound=self.outbound)
            self._last_update = time.monotonic()
            return
        if not self.message_id:
            return
        self._pending = card
        if final or time.monotonic() - self._last_update >= self._interval:
            self._flush()

    def _flush(self) -> None:
        card, self._pending = self._pending, None
        if card is None:
            return
        request = (
            PatchMessageRequest.builder()
            .message_id(self.message_id)
            .request_body(
                PatchMessageRequestBody.builder()
                .content(json.dumps(card, ensure_ascii=False))
                .build()
            )
            .build()
        )
        try:
            sending.call(
                self.app, lambda client, option: client.im.v1.message.patch(request, option)
            )
        except FeishuAPIError as exc:
            logger.warning("Updating Feishu card %s failed: %s", self.message_id, exc)
        self._last_update = time.monotonic()
