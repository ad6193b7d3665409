"""The Feishu callbacks on the ASGI event loop, in front of Django.

Django runs its synchronous middleware chain in one thread per process, so every
request of a process waits for the one before it; Feishu's bursts of events would
queue behind each other's database round trips. This layer answers
`POST /feishu/<app_id>/(events|cards)/` itself: it reads the body on the event loop and
runs the handling (feishu.callbacks, the same code as the Django views) in a worker
thread of its own, several at once. Everything else goes on to Django unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils.datastructures import CaseInsensitiveMapping

from feishu.callbacks import MAX_BODY, handle_callback

PATH = re.compile(r"^/feishu/(?P<app_id>[^/]{1,64})/(?P<kind>events|cards)/$")
ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Any]


def _handle_in_thread(app_id: str, body: bytes, headers: dict[str, str], cards: bool):
    close_old_connections()
    try:
        return handle_callback(
            app_id=app_id, body=body, headers=CaseInsensitiveMapping(headers), cards=cards
        )
    finally:
        close_old_connections()


async def _read_body(receive: Callable[[], Awaitable[dict]]) -> bytes | None:
    """The request body, or None when it is larger than MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


class FeishuCallbackFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive, send) -> None:
        match = PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            status, answer = 413, {"msg": "body too large"}
        else:
            headers = {
                name.decode("latin-1"): value.decode("latin-1")
                for name, value in scope.get("headers", [])
            }
            status, answer = await sync_to_async(_handle_in_thread, thread_sensitive=False)(
                match["app_id"], body, headers, match["kind"] == "cards"
            )
        payload = json.dumps(answer, ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
