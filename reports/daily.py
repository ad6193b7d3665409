"""The per-day numbers of a period: stored rollups for its complete days (refreshed first
when stale: a read-through cache) and a live count of the day in progress.

A period and the one before it are read together: one staleness check, one read of each
rollup table and one live count per source for both days in progress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from reports.models import DailyActivity, DailyLLMUsage
from reports.periods import Period, local_midnight
from reports.rollups import (
    ACTIVITY_FIELDS,
    USAGE_FIELDS,
    Window,
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


def split(period: Period) -> tuple[list[date], Window | None]:
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


def daily_numbers_of(periods: Sequence[Period]) -> list[DailyNumbers]:
    """The numbers of each of `periods` (of one time zone, no day in two of them)."""
    zone = periods[0].zone
    parts = [split(period) for period in periods]
    complete = {day for days, _tail in parts for day in days}
    tails = [tail for _days, tail in parts if tail is not None]
    rollups_refresh_stale(days=sorted(complete), zone=zone)
    activity: dict[date, dict[str, int]] = {}
    usage: list[dict[str, Any]] = []
    if complete:
        # One range for all periods; a day of the range that is no period's complete day
        # (a day in progress, stored when it was complete in another period) is skipped.
        in_range = {"day__gte": min(complete), "day__lte": max(complete)}
        for row in DailyActivity.objects.filter(**in_range).values("day", *ACTIVITY_FIELDS):
            if row["day"] in complete:
                activity[row.pop("day")] = row
        usage += (
            row
            for row in DailyLLMUsage.objects.filter(**in_range).values(
                "day", "model", "purpose", *USAGE_FIELDS
            )
            if row["day"] in complete
        )
    activity.update(activity_by_day(tails, zone))
    usage += usage_by_day(tails, zone)
    result = []
    for period in periods:
        days = period.day_list()
        own = set(days)
        result.append(
            DailyNumbers(
                activity={day: activity.get(day) or empty_activity() for day in days},
                usage=[row for row in usage if row["day"] in own],
            )
        )
    return result
