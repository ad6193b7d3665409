"""Counters of embedding calls in the shared cache, per hour: calls, texts, tokens,
milliseconds and failures, by kind (query or passage).

Embedding calls are not LLM calls (no completion, no per-call cost worth a row, and a
query embedding sits on the search path), so they are counted rather than recorded.
`totals(since, until)` sums the hours the window touches; the alert metrics and the
knowledge stats read it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.cache import cache

from helpdesk.tenancy import current_tenant_or_none

FIELDS = ("calls", "texts", "tokens", "milliseconds", "failures")
KEEP_SECONDS = 8 * 24 * 3600


def _key(tenant_id: int | None, kind: str, hour: datetime, name: str) -> str:
    return f"embeddings:metrics:{tenant_id or 0}:{kind}:{hour:%Y%m%d%H}:{name}"


def _incr(key: str, amount: int) -> None:
    if cache.add(key, amount, timeout=KEEP_SECONDS):
        return
    try:
        cache.incr(key, amount)
    except ValueError:  # expired between add and incr
        cache.add(key, amount, timeout=KEEP_SECONDS)


def count(
    kind: str,
    *,
    texts: int = 0,
    tokens: int = 0,
    milliseconds: float = 0.0,
    failed: bool = False,
    tenant_id: int | None = None,
) -> None:
    if tenant_id is None:
        tenant = current_tenant_or_none()
        tenant_id = tenant.pk if tenant is not None else None
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    values = {
        "calls": 1,
        "texts": texts,
        "tokens": tokens,
        "milliseconds": round(milliseconds),
        "failures": int(failed),
    }
    for name, amount in values.items():
        if amount:
            _incr(_key(tenant_id, kind, hour, name), amount)


def totals(tenant_id: int | None, kind: str, since: datetime, until: datetime) -> dict[str, int]:
    """Sums over the hours from `since`'s to `until`'s (at most the last KEEP_SECONDS)."""
    since = max(since, until - timedelta(seconds=KEEP_SECONDS))
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    keys = []
    while hour < until:
        keys += [_key(tenant_id, kind, hour, name) for name in FIELDS]
        hour += timedelta(hours=1)
    found = cache.get_many(keys)
    result = dict.fromkeys(FIELDS, 0)
    for key, value in found.items():
        result[key.rsplit(":", 1)[1]] += int(value)
    return result
