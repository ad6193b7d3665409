"""Work-order metrics for the alert rules, over the window [since, until) in the tenant's scope.

Backlog and overdue count are the state at the end of the window (`until`, normally now);
the others measure what happened inside the window. None means nothing to measure.
"""

from datetime import datetime
from typing import Any

from django.db.models import Avg
from django.utils.translation import gettext_lazy as _

from alerts.registry import Unit, metric
from workorders.models import WorkOrder

HOUR_SECONDS = 3600


@metric("workorders.backlog", unit=Unit.COUNT, label=_("Open work-order backlog"))
def backlog(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """Work orders open, in progress or pending (created before the end of the window)."""
    return WorkOrder.objects.unresolved().filter(created_at__lt=until).count()


@metric("workorders.overdue", unit=Unit.COUNT, label=_("Overdue work orders"))
def overdue(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    return WorkOrder.objects.overdue(now=until).count()


@metric("workorders.avg_resolution_hours", unit=Unit.HOURS, label=_("Average resolution time"))
def avg_resolution_hours(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """Mean time from creation to resolution of the work orders resolved in the window."""
    spans = WorkOrder.objects.filter(resolved_at__gte=since, resolved_at__lt=until).values_list(
        "created_at", "resolved_at"
    )
    # Summed in Python: duration arithmetic differs between SQLite and PostgreSQL, and a
    # window holds few resolutions.
    seconds = [(resolved - created).total_seconds() for created, resolved in spans]
    if not seconds:
        return None
    return sum(seconds) / len(seconds) / HOUR_SECONDS


@metric("workorders.avg_satisfaction", unit=Unit.SCORE, label=_("Average satisfaction"))
def avg_satisfaction(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """Mean 1-5 rating of the work orders resolved in the window that were rated."""
    result = WorkOrder.objects.filter(
        resolved_at__gte=since, resolved_at__lt=until, satisfaction__isnull=False
    ).aggregate(avg=Avg("satisfaction"))
    return None if result["avg"] is None else float(result["avg"])


@metric("workorders.created_per_hour", unit=Unit.PER_HOUR, label=_("Work orders created per hour"))
def created_per_hour(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    hours = (until - since).total_seconds() / HOUR_SECONDS
    if hours <= 0:
        return None
    return WorkOrder.objects.filter(created_at__gte=since, created_at__lt=until).count() / hours
