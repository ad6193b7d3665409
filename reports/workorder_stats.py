"""Work-order numbers of a period, counted live in two queries (indexed columns).

- opened: created in the period; resolved: resolved in the period;
- overdue: due in the period (up to its end, at most now) and not resolved or closed by the
  due time, whether still open or done late: the period's SLA breaches;
- medians (discrete) of the first response (the first reply, status change or resolution
  by a person) of the work orders created in the period, and of the resolution time of
  those resolved in it;
- SLA compliance per priority: of the work orders due in the period, the share done in time;
- breakdowns: the work orders created in the period by their current status, priority,
  category and module.

The counters of a period and of the one before it come from one query that reads both
windows at once (each aggregate filtered to its period); the breakdowns and the SLA
compliance of a period from one grouped query.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from django.db.models import Case, Count, DurationField, F, Q, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from llm.models import Percentile
from reports.periods import Period
from workorders.models import WorkOrder

MEDIAN = 0.5
BREAKDOWN_TITLES = {
    "status": gettext_lazy("Status"),
    "priority": gettext_lazy("Priority"),
    "category": gettext_lazy("Category"),
    "module": gettext_lazy("Module"),
}
BREAKDOWNS = tuple(BREAKDOWN_TITLES)


def _within(column: str, period: Period) -> Q:
    return Q(**{f"{column}__gte": period.since, f"{column}__lt": period.until})


def _late() -> Q:
    """Not done by its due time (needs the `done_at` annotation)."""
    return Q(done_at__isnull=True) | Q(done_at__gt=F("due_at"))


def _with_done_at(queryset: Any) -> Any:
    return queryset.annotate(done_at=Coalesce("resolved_at", "closed_at"))


def _median(start: str, end: str, within: Q) -> Percentile:
    """The median of end - start over the rows `within` (the others are null: ignored)."""
    span = Case(When(within, then=F(end) - F(start)), output_field=DurationField())
    return Percentile(span, MEDIAN, output_field=DurationField())


def _seconds(span: Any) -> float | None:
    if span is None:
        return None
    if not isinstance(span, timedelta):  # SQLite hands back microseconds
        span = timedelta(microseconds=int(span))
    return span.total_seconds()


def _counter_aggregates(period: Period, suffix: str) -> dict[str, Any]:
    created, resolved = _within("created_at", period), _within("resolved_at", period)
    return {
        f"opened_{suffix}": Count("id", filter=created),
        f"resolved_{suffix}": Count("id", filter=resolved),
        f"overdue_{suffix}": Count("id", filter=_within("due_at", period) & _late()),
        f"first_response_{suffix}": _median(
            "created_at", "first_response_at", created & Q(first_response_at__isnull=False)
        ),
        f"resolution_{suffix}": _median("created_at", "resolved_at", resolved),
    }


def _counters_from(row: dict[str, Any], suffix: str) -> dict[str, Any]:
    return {
        "workorders_opened": row[f"opened_{suffix}"],
        "workorders_resolved": row[f"resolved_{suffix}"],
        "workorders_overdue": row[f"overdue_{suffix}"],
        "first_response_median_seconds": _seconds(row[f"first_response_{suffix}"]),
        "resolution_median_seconds": _seconds(row[f"resolution_{suffix}"]),
    }


def workorder_counters(current: Period, previous: Period) -> tuple[dict[str, Any], dict[str, Any]]:
    """The work-order counters of `current` and of `previous`, in one query over the rows
    created, resolved or due in either (three indexed ranges)."""
    relevant = Q()
    for column in ("created_at", "resolved_at", "due_at"):
        for period in (current, previous):
            relevant |= _within(column, period)
    row = _with_done_at(WorkOrder.objects.filter(relevant)).aggregate(
        **_counter_aggregates(current, "current"), **_counter_aggregates(previous, "previous")
    )
    return _counters_from(row, "current"), _counters_from(row, "previous")


def workorder_breakdowns_and_sla(
    period: Period,
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, Any]]]:
    """(breakdowns, SLA compliance) of `period`, in one grouped query.

    Breakdowns: {"status": {"open": n, ...}, "priority": ..., "category": ..., "module": ...}
    of the work orders created in the period ("" for an empty category or module), most
    frequent first. SLA: {priority: {"due": n, "met": n, "rate": met/due}} of those due in it.
    """
    created, due = _within("created_at", period), _within("due_at", period)
    rows = (
        _with_done_at(WorkOrder.objects.filter(created | due))
        .order_by()
        .values(*BREAKDOWNS)
        .annotate(
            n_created=Count("id", filter=created),
            n_due=Count("id", filter=due),
            n_met=Count("id", filter=due & ~_late()),
        )
    )
    counts: dict[str, Counter] = {name: Counter() for name in BREAKDOWNS}
    sla: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        if row["n_created"]:
            for name in BREAKDOWNS:
                counts[name][row[name]] += row["n_created"]
        if row["n_due"]:
            sla[row["priority"]].update(due=row["n_due"], met=row["n_met"])
    breakdowns = {name: dict(counter.most_common()) for name, counter in counts.items()}
    compliance = {
        priority: {"due": n["due"], "met": n["met"], "rate": n["met"] / n["due"]}
        for priority, n in sla.items()
    }
    return breakdowns, compliance
