"""Reads of LLM usage: totals and breakdowns by day, model or purpose."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from llm.choices import Outcome
from llm.models import LLMCall, Percentile

GROUPS = ("day", "model", "purpose")
P95 = 0.95


def token_cost_sums() -> dict[str, Any]:
    """Aggregates of LLMCall rows: `prompt_tokens`, `completion_tokens` and `cost` summed
    (0 without rows; the cost with 16 digits, room for many calls' sums)."""
    return {
        "prompt_tokens": Coalesce(Sum("prompt_tokens"), 0),
        "completion_tokens": Coalesce(Sum("completion_tokens"), 0),
        "cost": Coalesce(
            Sum("cost"),
            Value(Decimal(0)),
            output_field=DecimalField(max_digits=16, decimal_places=6),
        ),
    }


def _aggregates() -> dict[str, Any]:
    ok = Q(outcome=Outcome.OK)
    return {
        "calls": Count("id"),
        "errors": Count("id", filter=Q(outcome=Outcome.ERROR)),
        "cancelled": Count("id", filter=Q(outcome=Outcome.CANCELLED)),
        **token_cost_sums(),
        # Latencies of successful calls only: failures have their own rate.
        "latency_p95_ms": Percentile(Case(When(ok, then=F("latency_ms"))), P95),
        "first_token_p95_ms": Percentile(Case(When(ok, then=F("first_token_ms"))), P95),
    }


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    settled = row["calls"] - row["cancelled"]
    row["error_rate"] = row["errors"] / settled if settled else None
    row["total_tokens"] = row["prompt_tokens"] + row["completion_tokens"]
    for key in ("latency_p95_ms", "first_token_p95_ms"):
        row[key] = None if row[key] is None else round(row[key])
    return row


def _empty_row() -> dict[str, Any]:
    return _finish(
        {
            "calls": 0,
            "errors": 0,
            "cancelled": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost": Decimal(0),
            "latency_p95_ms": None,
            "first_token_p95_ms": None,
        }
    )


def usage_totals(calls: QuerySet[LLMCall]) -> dict[str, Any]:
    """Calls, errors, tokens, cost and p95 latencies of `calls` (any queryset of LLMCall)."""
    return _finish(calls.order_by().aggregate(**_aggregates()))


def usage_breakdown(calls: QuerySet[LLMCall], group_by: str) -> list[dict[str, Any]]:
    """The totals per day (local time), model or purpose, each row with its `key`."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {GROUPS}")
    if group_by == "day":
        calls = calls.annotate(key=TruncDate("created_at"))
    else:
        calls = calls.annotate(key=F(group_by))
    rows = calls.order_by().values("key").annotate(**_aggregates()).order_by("key")
    return [_finish(dict(row)) for row in rows]


def usage_summary(*, since: datetime, until: datetime, group_by: str) -> dict[str, Any]:
    """The active tenant's usage in [since, until), with totals and one row per group.

    Grouped by day, every local day of the window has a row, days without calls too.
    """
    calls = LLMCall.objects.filter(created_at__gte=since, created_at__lt=until)
    groups = usage_breakdown(calls, group_by)
    if group_by == "day":
        groups = _every_day(groups, since, until)
    for row in groups:
        row["key"] = row["key"].isoformat() if isinstance(row["key"], date) else row["key"]
    return {
        "group_by": group_by,
        "since": since,
        "until": until,
        "totals": usage_totals(calls),
        "groups": groups,
    }


def _every_day(rows: list[dict[str, Any]], since: datetime, until: datetime) -> list[dict]:
    by_day = {row["key"]: row for row in rows}
    first = timezone.localtime(since).date()
    last = timezone.localtime(until - timedelta(microseconds=1)).date()
    days = []
    day = first
    while day <= last:
        days.append(by_day.get(day) or {**_empty_row(), "key": day})
        day += timedelta(days=1)
    return days
