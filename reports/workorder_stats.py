"""Work-order numbers of a window [since, until), counted live (indexed columns).

- opened: created in the window; resolved: resolved in the window;
- overdue: due in the window (up to now) and not resolved or closed by the due time,
  whether still open or done late: the window's SLA breaches;
- medians (discrete) of the first response (the first reply, status change or resolution
  by a person) of the work orders created in the window, and of the resolution time of
  those resolved in it;
- SLA compliance per priority: of the work orders due in the window, the share done in time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, DurationField, F, Q, QuerySet
from django.db.models.functions import Coalesce

from llm.models import Percentile
from workorders.models import WorkOrder

MEDIAN = 0.5
BREAKDOWNS = ("status", "priority", "category", "module")


def _done_at() -> Coalesce:
    return Coalesce("resolved_at", "closed_at")


def _due_in(since: datetime, until: datetime, now: datetime) -> QuerySet[WorkOrder]:
    return WorkOrder.objects.filter(due_at__gte=since, due_at__lt=min(until, now)).annotate(
        done_at=_done_at()
    )


def _late() -> Q:
    return Q(done_at__isnull=True) | Q(done_at__gt=F("due_at"))


def _median(queryset: QuerySet[WorkOrder], start: str, end: str) -> float | None:
    span = queryset.aggregate(
        median=Percentile(F(end) - F(start), MEDIAN, output_field=DurationField())
    )["median"]
    if span is None:
        return None
    if not isinstance(span, timedelta):  # SQLite hands back microseconds
        span = timedelta(microseconds=int(span))
    return span.total_seconds()


def workorder_counters(since: datetime, until: datetime, now: datetime) -> dict[str, Any]:
    created = WorkOrder.objects.filter(created_at__gte=since, created_at__lt=until)
    resolved = WorkOrder.objects.filter(resolved_at__gte=since, resolved_at__lt=until)
    return {
        "workorders_opened": created.count(),
        "workorders_resolved": resolved.count(),
        "workorders_overdue": _due_in(since, until, now).filter(_late()).count(),
        "first_response_median_seconds": _median(
            created.filter(first_response_at__isnull=False), "created_at", "first_response_at"
        ),
        "resolution_median_seconds": _median(resolved, "created_at", "resolved_at"),
    }


def workorder_breakdowns(since: datetime, until: datetime) -> dict[str, dict[str, int]]:
    """Work orders created in the window by their current status, priority, category and
    module (one query; an empty category or module is ""), most frequent first."""
    counts: dict[str, Counter] = {name: Counter() for name in BREAKDOWNS}
    rows = (
        WorkOrder.objects.filter(created_at__gte=since, created_at__lt=until)
        .order_by()
        .values(*BREAKDOWNS)
        .annotate(n=Count("id"))
    )
    for row in rows:
        for name in BREAKDOWNS:
            counts[name][row[name]] += row["n"]
    return {name: dict(counter.most_common()) for name, counter in counts.items()}


def sla_by_priority(since: datetime, until: datetime, now: datetime) -> dict[str, dict]:
    """{priority: {"due": n, "met": n, "rate": met/due}} of the work orders due in the window."""
    result: dict[str, dict[str, Any]] = defaultdict(dict)
    rows = (
        _due_in(since, until, now)
        .order_by()
        .values("priority")
        .annotate(due=Count("id"), met=Count("id", filter=~_late()))
    )
    for row in rows:
        result[row["priority"]] = {
            "due": row["due"],
            "met": row["met"],
            "rate": row["met"] / row["due"] if row["due"] else None,
        }
    return dict(result)
