"""The per-day numbers of a period: stored rollups for its complete days (refreshed first
when stale: a read-through cache) and a live count of the day in progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from reports.models import DailyActivity, DailyLLMUsage
from reports.periods import Period, local_midnight
from reports.rollups import (
    ACTIVITY_FIELDS,
    USAGE_FIELDS,
    activity_by_day,
    empty_activity,
    usage_by_day,
)
from reports.services import rollups_refresh_stale


@dataclass(frozen=True)
class DailyNumbers:
    # Every begun day of the period, zeros included.
    activity: dict[date, dict[str, int]]
    # One row per day, model and purpose with calls.
    usage: list[dict[str, Any]]


def split(period: Period) -> tuple[list[date], tuple[datetime, datetime] | None]:
    """(complete days, the live window of the day in progress or None)."""
    complete = []
    tail = None
    for day in period.day_list():
        end = local_midnight(day + timedelta(days=1), period.zone)
        if end <= period.until:
            complete.append(day)
        else:
            tail = (local_midnight(day, period.zone), period.until)
    return complete, tail


def daily_numbers(period: Period) -> DailyNumbers:
    complete, tail = split(period)
    rollups_refresh_stale(days=complete, zone=period.zone)
    activity = {day: empty_activity() for day in period.day_list()}
    usage: list[dict[str, Any]] = []
    if complete:
        first, last = complete[0], complete[-1]
        for row in DailyActivity.objects.filter(day__gte=first, day__lte=last).values(
            "day", *ACTIVITY_FIELDS
        ):
            activity[row.pop("day")] = row
        usage += DailyLLMUsage.objects.filter(day__gte=first, day__lte=last).values(
            "day", "model", "purpose", *USAGE_FIELDS
        )
    if tail is not None:
        activity.update(activity_by_day(*tail, period.zone))
        usage += usage_by_day(*tail, period.zone)
    return DailyNumbers(activity=activity, usage=usage)
