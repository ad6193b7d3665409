"""GET /healthz: database, cache and channel layer, each checked for real.

The checks run at the same time, each with its own timeout, so a component that hangs
is reported as itself and the answer comes within CHECK_TIMEOUT_SECONDS. The database
and cache checks are blocking calls: they run on threads of their own (never on the
thread Django's sync code shares), at most one in flight per component, so a component
that hangs does not pile up threads however often the load balancer asks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor

from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse

CHECK_TIMEOUT_SECONDS = 3.0

_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")
_in_flight: dict[str, Future] = {}


def _database() -> None:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise RuntimeError("unexpected answer to SELECT 1")
    finally:
        connections["default"].close()  # back to the pool, not kept by this thread


def _cache() -> None:
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, timeout=10)
    try:
        if cache.get(key) != value:
            raise RuntimeError("value read back differs")
    finally:
        cache.delete(key)


async def _channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel("healthz.")
    payload = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "payload": payload})
    message = await layer.receive(channel)
    if message.get("payload") != payload:
        raise RuntimeError("message read back differs")


def _retrieve(future: asyncio.Future) -> None:
    if not future.cancelled():
        future.exception()


def _on_thread(name: str, check: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """`check` on the health-check threads, joining the run already in flight, if any."""

    async def run() -> None:
        future = _in_flight.get(name)
        if future is None or future.done():
            future = _in_flight[name] = _executor.submit(check)
        waiter = asyncio.wrap_future(future)
        # A run that outlives its timeout still ends; its error is reported, not logged.
        waiter.add_done_callback(_retrieve)
        await asyncio.shield(waiter)

    return run


async def _run(check: Callable[[], Awaitable[None]]) -> dict:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except TimeoutError:
        return {"ok": False, "error": "TimeoutError", "timeout_s": CHECK_TIMEOUT_SECONDS}
    except Exception as exc:  # a health check reports every failure, whatever it is
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def healthz(request: HttpRequest) -> JsonResponse:
    database, cache_result, layer = await asyncio.gather(
        _run(_on_thread("database", _database)),
        _run(_on_thread("cache", _cache)),
        _run(_channel_layer),
    )
    checks = {"database": database, "cache": cache_result, "channel_layer": layer}
    healthy = all(item["ok"] for item in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )
