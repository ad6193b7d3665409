"""Outages of the database and the cache: recognising them, and logging them once.

When PostgreSQL or Redis is down every request fails the same way. The operator
needs one line saying so, not a traceback per request: `log_outage` writes at most
one line per kind of failure per interval, counting the ones it held back, and
`OutageLogFilter` does the same to Django's own request log.
"""

from __future__ import annotations

import logging
import threading
import time
from enum import StrEnum

import redis.exceptions
from django.db import utils as db_utils

logger = logging.getLogger("helpdesk.outage")

LOG_INTERVAL_SECONDS = 60.0


class Outage(StrEnum):
    DATABASE = "database"
    CACHE = "cache"


_CACHE_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_DATABASE_ERRORS = (db_utils.OperationalError, db_utils.InterfaceError)


def outage_of(exc: BaseException | None) -> Outage | None:
    """The component an exception says is unavailable, or None for any other error."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, _DATABASE_ERRORS):
            return Outage.DATABASE
        if isinstance(exc, _CACHE_ERRORS):
            return Outage.CACHE
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


class _Throttle:
    """Per key: whether to write a line now, and how many were held back since."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def admit(self, key: str) -> int | None:
        """The number of lines held back since the last one, or None to hold this one."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.interval:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            self._last[key] = now
            return self._held.pop(key, 0)

    def reset(self) -> None:
        with self._lock:
            self._last.clear()
            self._held.clear()


_throttle = _Throttle(LOG_INTERVAL_SECONDS)


def _describe(kind: Outage, exc: BaseException, held: int) -> str:
    cause = exc.__cause__ or exc
    return (
        f"{kind.value} unavailable: {type(cause).__name__}: {str(cause).strip()[:200]} "
        f"({held} similar failures in the last {int(LOG_INTERVAL_SECONDS)} s not logged)"
    )


def log_outage(kind: Outage, exc: BaseException, *, where: str) -> None:
    """One warning line per kind of failure and place per interval, without a traceback."""
    key = f"{kind.value}:{where}:{type(exc.__cause__ or exc).__name__}"
    held = _throttle.admit(key)
    if held is not None:
        logger.warning("%s [%s]", _describe(kind, exc, held), where)


def reset_outage_log() -> None:
    """Forget what was logged (tests)."""
    _throttle.reset()


class OutageLogFilter(logging.Filter):
    """Turns tracebacks caused by an outage (Django's "Internal Server Error" ones
    included) into one line per kind per interval, and Django's line per 503 response
    into one per interval; every other record passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 503:
            # Django's line per 503 response ("Service Unavailable: <path>"): once per
            # interval, with the number held back.
            held = _throttle.admit(f"503:{record.name}")
            if held is None:
                return False
            record.msg = f"{record.msg} ({held} more 503 responses not logged)"
            record.exc_info, record.exc_text = None, None  # the outage line says why
            return True
        exc = record.exc_info[1] if record.exc_info else None
        kind = outage_of(exc)
        if kind is None or exc is None:
            return True
        key = f"{kind.value}:{record.name}:{type(exc.__cause__ or exc).__name__}"
        held = _throttle.admit(key)
        if held is None:
            return False
        record.msg, record.args = "%s [%s]", (_describe(kind, exc, held), record.getMessage())
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
