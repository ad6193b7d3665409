"""Helpers of the live (WebSocket) tests: connections to the real ASGI application."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client

from dialogue.authentication import issue_visitor_token
from helpdesk.routing import websocket_urlpatterns

TIMEOUT = 5


def application() -> URLRouter:
    return URLRouter(websocket_urlpatterns)


class Connection:
    """One WebSocket connection that reads frames by type, keeping the others."""

    def __init__(self, path: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.communicator = WebsocketCommunicator(application(), path, headers=headers or [])
        self.frames: list[dict[str, Any]] = []

    async def open(self) -> tuple[bool, int | None]:
        return await self.communicator.connect(timeout=TIMEOUT)

    async def send(self, frame: dict[str, Any] | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        await self.communicator.send_to(text_data=text)

    async def next(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        message = await self.communicator.receive_output(timeout)
        if message["type"] == "websocket.close":
            return {"type": "closed", "code": message.get("code")}
        return json.loads(message["text"])

    async def expect(
        self, kind: str | tuple[str, ...], timeout: float = TIMEOUT, **match: Any
    ) -> dict[str, Any]:
        """The first frame of `kind` (a type or types) with `match`'s values, from those
        kept or the next ones."""
        kinds = (kind,) if isinstance(kind, str) else kind

        def wanted(frame: dict[str, Any]) -> bool:
            return frame["type"] in kinds and all(frame.get(k) == v for k, v in match.items())

        for frame in self.frames:
            if wanted(frame):
                self.frames.remove(frame)
                return frame
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.next(timeout)
                if wanted(frame):
                    return frame
                self.frames.append(frame)

    async def drain(self, timeout: float = 0.5) -> list[dict[str, Any]]:
        """The frames kept and those that arrive within `timeout`."""
        frames, self.frames = self.frames, []
        while not await self.communicator.receive_nothing(timeout):
            frames.append(await self.next())
        return frames

    async def nothing(self, timeout: float = 0.3) -> bool:
        """True when no frame arrives within `timeout` (the ones kept count)."""
        if self.frames:
            return False
        return await self.communicator.receive_nothing(timeout)

    async def close(self) -> None:
        await self.communicator.disconnect()


async def customer(tenant, visitor_id: str = "visitor-1", **hello: Any) -> Connection:
    """A customer's page, after `welcome` (kept as `.welcome`)."""
    connection = Connection("/ws/chat/", headers=[(b"origin", b"http://testserver")])
    connected, _code = await connection.open()
    assert connected
    token = issue_visitor_token(tenant=tenant, visitor_id=visitor_id)
    await connection.send({"type": "hello", "protocol": 1, "token": token, **hello})
    connection.welcome = await connection.expect("welcome")
    return connection


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def desk(user) -> Connection:
    """A staff member's desk, after `welcome` (kept as `.welcome`)."""
    cookie = await sync_to_async(session_cookie)(user)
    connection = Connection(
        "/ws/desk/", headers=[(b"origin", b"http://testserver"), (b"cookie", cookie)]
    )
    connected, _code = await connection.open()
    assert connected
    await connection.send({"type": "hello", "protocol": 1})
    connection.welcome = await connection.expect("welcome")
    return connection
