"""ASGI: a request body larger than MAX_REQUEST_BODY_BYTES is refused with a 413.

Django reads the whole body (to disk past FILE_UPLOAD_MAX_MEMORY_SIZE) before any view
runs, and neither it nor uvicorn caps its size. A declared Content-Length over the
limit is refused before reading a byte; a body without one (chunked) is counted as it
arrives, and the request is cut off at the limit.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from helpdesk.api.exceptions import error_body
from helpdesk.api.parsers import too_large_message

type Message = dict[str, Any]


async def _send_error(send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await _send_error(send, 400, "bad_request", _("Invalid Content-Length header."))
                return None
            if length > limit:
                await _send_error(send, 413, "request_too_large", too_large_message(limit))
                return None

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, tracking_send)
        if exceeded and not started:
            await _send_error(send, 413, "request_too_large", too_large_message(limit))
        return None
