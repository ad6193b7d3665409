"""Event loops: async work from sync code (a task worker running the message pipeline),
and limits per loop.

asgiref's async_to_sync runs the work on the event loop that called the sync code, if
any (a Django view under ASGI), else on a new loop of its own; either way sync work
inside it comes back to the calling thread, so it shares that thread's database
connection and transaction. A new loop opens connection pools of its own (the LLM's
HTTP sessions, for one) that would stay open after the loop is gone: `closers` close
them before it ends.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from asgiref.sync import SyncToAsync, async_to_sync

Closer = Callable[[], Awaitable[None]]


def _called_from_an_event_loop() -> bool:
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    pid = getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None)
    return loop is not None and pid == os.getpid() and loop.is_running()


def run_async[T](coroutine: Coroutine[Any, Any, T], *, closers: tuple[Closer, ...] = ()) -> T:
    """Run `coroutine` to completion from sync code."""
    own_loop = not _called_from_an_event_loop()

    async def run() -> T:
        try:
            return await coroutine
        finally:
            if own_loop:
                for close in closers:
                    await close()

    return async_to_sync(run)()


class PerLoopSemaphore:
    """At most `value` holders at once per event loop (an asyncio.Semaphore belongs to the
    loop it is first used on, and tests and `run_async` run loops of their own).

        slots = PerLoopSemaphore(2)
        async with slots(): ...
    """

    def __init__(self, value: int) -> None:
        self.value = value
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    def __call__(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._by_loop.get(loop)
        if semaphore is None:
            semaphore = self._by_loop[loop] = asyncio.Semaphore(self.value)
        return semaphore
