"""ASGI lifespan: at shutdown, close what lives per event loop (connection pools)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Closer = Callable[[], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def lifespan_closing(*closers: Closer) -> ASGIApp:
    """A lifespan app that awaits each of `closers` at shutdown, in order."""

    async def lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for close in closers:
                    await close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    return lifespan
