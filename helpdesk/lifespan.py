"""ASGI lifespan: at shutdown, close the async connection pools that live per event loop
(PostgreSQL, Redis and the LLM's HTTP connections)."""

from __future__ import annotations

from typing import Any

from helpdesk import async_db
from helpdesk.cache import SharedClientRedisCache
from helpdesk.llm import get_llm_client


async def close_async_pools() -> None:
    await async_db.close_pool()
    await SharedClientRedisCache.aclose_async_clients()
    await get_llm_client().aclose()


async def lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await close_async_pools()
            await send({"type": "lifespan.shutdown.complete"})
            return
