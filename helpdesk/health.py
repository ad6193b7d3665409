"""GET /healthz: database, cache and channel layer, each checked for real."""

import asyncio
import time
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

CHECK_TIMEOUT_SECONDS = 3.0


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("unexpected answer to SELECT 1")


async def _cache() -> None:
    key, value = f"healthz:{uuid.uuid4().hex}", uuid.uuid4().hex
    await cache.aset(key, value, timeout=10)
    try:
        if await cache.aget(key) != value:
            raise RuntimeError("value read back differs")
    finally:
        await cache.adelete(key)


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


async def _run(check) -> dict:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as exc:  # a health check reports every failure, whatever it is
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 2)}


async def healthz(request: HttpRequest) -> JsonResponse:
    database, cache_result, layer = await asyncio.gather(
        _run(sync_to_async(_database, thread_sensitive=True)),
        _run(_cache),
        _run(_channel_layer),
    )
    checks = {"database": database, "cache": cache_result, "channel_layer": layer}
    healthy = all(item["ok"] for item in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )
