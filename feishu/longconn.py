"""The long connection: lark-oapi's WebSocket client feeding the same intake as the callback.

Feishu authenticates the connection when it opens, so events arrive in plain text; the
SDK acknowledges each one with what the handler returns. The SDK calls handlers on its
event loop, where Django's ORM may not run, so each event is handed to a worker thread.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import lark_oapi as lark
from django.db import close_old_connections
from lark_oapi.api.im.v1 import P2ImMessageReceiveV1
from lark_oapi.event.callback.model.p2_card_action_trigger import (
    P2CardActionTrigger,
    P2CardActionTriggerResponse,
)

from feishu import intake
from feishu.models import FeishuApp
from helpdesk.tenancy import tenant_scope

logger = logging.getLogger(__name__)


class LongConnection:
    def __init__(self, app: FeishuApp) -> None:
        self.app = app
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feishu-ws")

    def _in_worker(self, typed_event: Any) -> dict[str, Any]:
        payload = json.loads(lark.JSON.marshal(typed_event))

        def run() -> dict[str, Any]:
            close_old_connections()
            try:
                with tenant_scope(self.app.tenant):
                    return intake.dispatch(app=self.app, payload=payload, via="websocket")
            finally:
                close_old_connections()

        return self._worker.submit(run).result()

    def on_message(self, event: P2ImMessageReceiveV1) -> None:
        self._in_worker(event)

    def on_card_action(self, event: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        return P2CardActionTriggerResponse(self._in_worker(event))

    def handler(self) -> lark.EventDispatcherHandler:
        # Events on the long connection are neither encrypted nor signed: the connection
        # itself was authenticated with the app secret.
        return (
            lark.EventDispatcherHandler.builder("", "")
            .register_p2_im_message_receive_v1(self.on_message)
            .register_p2_card_action_trigger(self.on_card_action)
            .build()
        )

    def client(self) -> lark.ws.Client:
        return lark.ws.Client(
            self.app.app_id,
            self.app.app_secret,
            event_handler=self.handler(),
            domain=self.app.base_url,
            # At INFO the SDK logs the connection URL, whose query carries its access ticket.
            log_level=lark.LogLevel.WARNING,
            auto_reconnect=True,
        )
