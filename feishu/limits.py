"""Outbound rate limits shared by every process: per chat and per app.

Time is cut into slots of 1 / (limit - 1) seconds and each call claims a slot with an
atomic `cache.add` (Redis in production, the process's memory on the embedded default).
A slot holds one call, so no sliding second ever sees more than `limit` calls, however
the calls of many processes interleave. Calls claim the next free slot and sleep until
it starts; a call that would wait longer than `max_wait` raises RateLimitWait.
"""

from __future__ import annotations

import time

from django.core.cache import cache

SEARCH_SLOTS = 2000


class RateLimitWait(Exception):
    """No slot within the allowed wait."""


def _slot_length(per_second: int) -> float:
    return 1.0 / max(per_second - 1, 1) if per_second > 1 else 1.0


def _claim(scope: str, per_second: int, not_before: float, max_wait: float) -> float:
    """Claim the first free slot starting at or after `not_before`; its start time."""
    length = _slot_length(per_second)
    first = int(not_before / length)
    last = int((not_before + max_wait) / length)
    for slot in range(first, min(last, first + SEARCH_SLOTS) + 1):
        if cache.add(f"feishu:slot:{scope}:{slot}", 1, timeout=int(max_wait) + 5):
            return max(slot * length, not_before)
    raise RateLimitWait(scope)


def _release(scope: str, per_second: int, start: float) -> None:
    cache.delete(f"feishu:slot:{scope}:{int(start / _slot_length(per_second))}")


def acquire(limits: list[tuple[str, int]], *, max_wait: float = 30.0) -> float:
    """Wait for a slot in every (scope, per_second) of `limits`; the seconds waited."""
    began = time.time()
    not_before = began
    while True:
        claimed: list[tuple[str, int, float]] = []
        start = not_before
        for scope, per_second in limits:
            slot_start = _claim(scope, per_second, start, max_wait - (start - began))
            claimed.append((scope, per_second, slot_start))
            start = max(start, slot_start)
        # Every claimed slot must still hold the moment of the call.
        if all(start < s + _slot_length(p) for _scope, p, s in claimed):
            break
        for scope, per_second, slot_start in claimed:
            _release(scope, per_second, slot_start)
        not_before = start
    delay = start - time.time()
    if delay > 0:
        time.sleep(delay)
    return time.time() - began
