"""Async work from sync code, on an event loop that lives as long as its thread.

Sync code that runs async work again and again (a task worker answering Feishu messages
through the message pipeline) would otherwise open a new event loop for each piece of
work, and with it new connection pools (the LLM's HTTP sessions, async PostgreSQL and
Redis) that nothing closes. A plain thread keeps a loop of its own for that. A thread
that an event loop runs sync code in (a Django view under ASGI, or a task run inline
from one) hands the work to that loop, as asgiref's async_to_sync does, so that sync
work inside it comes back to this thread.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync

_local = threading.local()


def _called_from_an_event_loop() -> bool:
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    return loop is not None and pid == os.getpid() and loop.is_running()


async def _awaited[T](coroutine: Coroutine[Any, Any, T]) -> T:
    return await coroutine


def run_async[T](coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion, from sync code."""
    if _called_from_an_event_loop():
        return async_to_sync(_awaited)(coroutine)
    runner = getattr(_local, "runner", None)
    if runner is None:
        runner = _local.runner = asyncio.Runner()
    return runner.run(coroutine)
