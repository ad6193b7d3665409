"""What both live consumers share: frames parsed and validated before a handler sees
them, refusals answered as `error` frames, floods refused, the person's language,
database work in worker threads that give their connections back, and group joins and
leaves that wait for a connection of the channel layer rather than fail."""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation.trans_real import parse_accept_lang_header
from rest_framework import serializers

from dialogue.live.protocol import (
    CLOSE_FLOODING,
    FloodGuard,
    Frame,
    FrameError,
    encode,
    parse,
    rate_limited,
)
from helpdesk.db import releasing_connections
from helpdesk.loops import PerLoopSemaphore

logger = logging.getLogger(__name__)

# Group joins and leaves in flight at once per process: each takes a connection of the
# channel layer's Redis pool, which refuses one past its size (CHANNEL_LAYER_MAX_CONNECTIONS)
# instead of waiting, and a server restart closes or reopens every page at once.
GROUP_CALLS_AT_ONCE = 200
_group_calls = PerLoopSemaphore(GROUP_CALLS_AT_ONCE)


def language_of(scope: dict[str, Any]) -> str:
    """The language the page was shown in (Django's language cookie), else the browser's."""
    headers = dict(scope.get("headers", []))
    cookies = scope.get("cookies") or {}
    candidates = [cookies.get(settings.LANGUAGE_COOKIE_NAME, "")]
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [code for code, _quality in parse_accept_lang_header(accept)]
    for candidate in candidates:
        try:
            return translation.get_supported_language_variant(candidate)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE


async def in_worker_thread(func: Any, *args: Any, **kwargs: Any) -> Any:
    """`func` in a worker thread of the pool, not the one thread every connection of the
    process would share (Channels gives consumers no thread of their own): each call is a
    unit of work that gives its connection back."""
    return await sync_to_async(releasing_connections(func), thread_sensitive=False)(*args, **kwargs)


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.language = language_of(self.scope)
        self.guard = FloodGuard()
        self.seen_events: deque[str] = deque(maxlen=256)

    def schemas(self) -> dict[str, type[serializers.Serializer]]:
        """The frames the client may send now, by type."""
        raise NotImplementedError

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        with translation.override(self.language):
            if not self.guard.admit():
                if self.guard.flooding:
                    await self.close(code=CLOSE_FLOODING)
                else:
                    await self.send_frame(rate_limited().frame())
                return
            frame = None
            try:
                frame = parse(text_data, self.schemas())
                await getattr(self, f"on_{frame.type}")(frame)
            except FrameError as exc:
                await self.send_frame(exc.frame(frame.ref if frame else None))

    async def on_ping(self, frame: Frame) -> None:
        await self.send_frame({"type": "pong", "ref": frame.ref})

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))

    async def in_thread(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return await in_worker_thread(func, *args, **kwargs)

    async def join(self, group: str) -> None:
        async with _group_calls():
            await self.channel_layer.group_add(group, self.channel_name)

    async def leave(self, group: str) -> None:
        async with _group_calls():
            await self.channel_layer.group_discard(group, self.channel_name)

    def first_time(self, event: dict[str, Any]) -> bool:
        """An event reaches a connection through more than one group at times."""
        if event["id"] in self.seen_events:
            return False
        self.seen_events.append(event["id"])
        return True
