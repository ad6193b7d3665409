"""The chat stream's fast path: a web visitor's streamed answer without Django's request cycle.

`POST /api/v1/chat/sessions/<id>/stream/` with `Authorization: Visitor <token>` is the
product's hottest request. Through Django's request cycle it costs milliseconds of
middleware, DRF and worker-thread hops before the LLM is even asked. This ASGI layer,
in front of Django, is that request's entry point: it checks the token and the body
with the DRF view's own code, then runs the message pipeline with the native store
(`dialogue.pipeline.NativeTurnStore`: async PostgreSQL and Redis on the event loop)
and visitor admission, and streams the answer as the view would. The response carries
the headers Django's middleware would add.

What the pipeline refuses (bad input, someone else's or an ended session, a duplicate
still being answered, a visitor over its limit) it refuses before writing anything; the
request then goes to Django with its body replayed, and Django gives the DRF view's
own error envelope (the visitor's count taken here travels in the scope, so Django
does not count it again). So do other requests, staff callers and malformed ones.

Active with PostgreSQL and the shared Redis cache, unless `CHAT_NATIVE_STORE=0`;
with SQLite or another cache every request goes through Django. The native store
prepares its statements on the server, which a PgBouncer older than 1.21 in
transaction mode does not support: turn it off there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from io import BytesIO
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.locale import LocaleMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from dialogue import pipeline
from dialogue.api.serializers import SendMessageSerializer
from dialogue.authentication import visitor_token_claims, visitor_token_in
from dialogue.models import Channel
from dialogue.pipeline import native_store
from dialogue.sse import event_stream
from dialogue.throttling import COUNTED_SCOPE_KEY
from helpdesk.api.exceptions import error_body
from helpdesk.loops import PerLoopSemaphore

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TURN_STORE = pipeline.NativeTurnStore()
STREAM_PATH = re.compile(r"/api/v1/chat/sessions/([1-9][0-9]{0,17})/stream/")
# Middleware that only add response headers, applied to the fast path's response.
HEADER_MIDDLEWARE = (SecurityMiddleware, XFrameOptionsMiddleware, LocaleMiddleware)


class ChatStreamFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.header_middleware = [
            middleware(_no_response)
            for middleware in HEADER_MIDDLEWARE
            if f"{middleware.__module__}.{middleware.__name__}" in settings.MIDDLEWARE
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "POST":
            match = STREAM_PATH.fullmatch(scope["path"])
        if match is None or not native_store.available():
            return await self.app(scope, receive, send)
        body, complete = await _read_body(receive, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        replay = _replaying(body, complete, receive)
        if not complete:
            return await self.app(scope, replay, send)
        request = ASGIRequest(scope, BytesIO(body))
        turn = None
        # One worker thread for the request's sync work, as in Django's handler; that
        # work gives its pooled connections back itself (`releasing_connections`).
        async with ThreadSensitiveContext():
            language = translation.get_language_from_request(request)
            with translation.override(language):
                try:
                    async with _preparing():
                        turn = await self._turn(request, body, int(match[1]))
                except Exception:
                    logger.exception("Chat stream fast path failed for %s", scope["path"])
                    return await self._server_error(request, send)
                if turn is not None:
                    await self._stream(request, turn, receive, send)
        if turn is None:
            await self.app(scope, replay, send)

    async def _turn(
        self, request: HttpRequest, body: bytes, session_id: int
    ) -> pipeline.Turn | None:
        """The prepared turn, or None when Django must answer the request."""
        if not _acceptable(request):
            return None
        try:
            token = visitor_token_in(get_authorization_header(request))
            if token is None:
                return None
            tenant_id, visitor_id = visitor_token_claims(token)
        except exceptions.AuthenticationFailed:
            return None
        message = _message(request, body)
        if message is None:
            return None
        incoming = pipeline.IncomingMessage(
            tenant_id=tenant_id,
            channel=Channel.WEB,
            external_user_id=visitor_id,
            content=message["content"],
            channel_message_id=message.get("client_message_id", ""),
            session_id=session_id,
        )
        admission = pipeline.VisitorRateAdmission()
        try:
            return await pipeline.prepare(incoming, store=TURN_STORE, admission=admission)
        except pipeline.PipelineError:
            return None
        finally:
            if admission.count is not None:
                request.scope[COUNTED_SCOPE_KEY] = admission.count

    async def _stream(
        self, request: HttpRequest, turn: pipeline.Turn, receive: Receive, send: Send
    ) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": self._headers(request)}
        )

        async def events() -> None:
            async for chunk in event_stream(turn, store=TURN_STORE):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        sender = asyncio.create_task(events())
        watcher = asyncio.create_task(_cancel_on_disconnect(receive, sender))
        try:
            await sender
        except asyncio.CancelledError:
            if not sender.cancelled():
                raise
        finally:
            watcher.cancel()

    async def _server_error(self, request: HttpRequest, send: Send) -> None:
        message = _("Internal server error. The error has been logged.")
        response = JsonResponse(error_body("server_error", str(message)), status=500)
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": self._headers(request, response),
            }
        )
        await send({"type": "http.response.body", "body": response.content})

    def _headers(
        self, request: HttpRequest, response: HttpResponseBase | None = None
    ) -> list[tuple[bytes, bytes]]:
        if response is None:
            response = StreamingHttpResponse((), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
        for middleware in self.header_middleware:
            response = middleware.process_response(request, response)
        return [(name.lower().encode(), value.encode()) for name, value in response.items()]


# Turns being prepared at once per event loop; the others wait before any work. Under
# overload this keeps the loop's queue short, so that the tokens of the answers already
# streaming are not delayed behind a crowd of new requests (the choice of two:
# docs/benchmarks.md, chat pipeline).
PREPARING_AT_ONCE = 2
_preparing = PerLoopSemaphore(PREPARING_AT_ONCE)


def _no_response(request: HttpRequest) -> None:
    raise AssertionError("header middleware is only asked to process responses")


def _acceptable(request: HttpRequest) -> bool:
    """Requests Django would serve as they are (a valid host, no HTTPS redirect)."""
    try:
        request.get_host()
    except DisallowedHost:
        return False
    return not (settings.SECURE_SSL_REDIRECT and not request.is_secure())


def _message(request: HttpRequest, body: bytes) -> dict[str, Any] | None:
    """The request's message as the DRF view reads it, or None if it would refuse it."""
    if request.content_type != "application/json":
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    serializer = SendMessageSerializer(data=data)
    return dict(serializer.validated_data) if serializer.is_valid() else None


async def _read_body(receive: Receive, limit: int | None) -> tuple[bytes, bool]:
    """The request body; False when it is larger than `limit` (Django will refuse it)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if limit is not None and size > limit:
            return b"".join(chunks), False


def _replaying(body: bytes, complete: bool, receive: Receive) -> Receive:
    """`receive` for Django: the body read so far as one message, then the rest."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": not complete}

    return replay


async def _cancel_on_disconnect(receive: Receive, sender: asyncio.Task) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    sender.cancel()
