"""Writes of the reports app: the stored daily rollups (see reports.models)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from helpdesk.config import get_config
from helpdesk.tenancy import current_tenant
from reports.models import DailyActivity, DailyLLMUsage
from reports.periods import local_midnight
from reports.rollups import (
    ACTIVITY_FIELDS,
    USAGE_FIELDS,
    activity_by_day,
    empty_activity,
    usage_by_day,
)

# An unsettled day's rollup is recomputed when it is older than this.
REFRESH_UNSETTLED = timedelta(minutes=5)
# Marks a rollup for recomputation (older than any settle window).
STALE = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))


def _runs(days: list[date]) -> list[list[date]]:
    """Consecutive days in runs, so each run is read with one query per source."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def stale_days(*, days: list[date], zone: ZoneInfo, now: datetime | None = None) -> list[date]:
    """The complete days among `days` whose rollup is missing, of another time zone, or
    unsettled and older than REFRESH_UNSETTLED."""
    if not days:
        return []
    now = now or timezone.now()
    settle = timedelta(days=get_config().get("reports.settle_days"))
    stored = {
        day: (computed_at, time_zone)
        for day, computed_at, time_zone in DailyActivity.objects.filter(
            day__gte=min(days), day__lte=max(days)
        ).values_list("day", "computed_at", "time_zone")
    }
    stale = []
    for day in days:
        computed, time_zone = stored.get(day, (None, ""))
        missing = computed is None or time_zone != zone.key
        settled = not missing and computed >= local_midnight(day + timedelta(days=1), zone) + settle
        if missing or (not settled and now - computed > REFRESH_UNSETTLED):
            stale.append(day)
    return stale


def rollups_refresh(*, days: list[date], zone: ZoneInfo) -> None:
    """Recompute and store the rollups of complete `days` in the active tenant.

    Rows are upserted, so two requests refreshing the same day at once both succeed.
    """
    for run in _runs(days):
        since = local_midnight(run[0], zone)
        until = local_midnight(run[-1] + timedelta(days=1), zone)
        activity = activity_by_day([(since, until)], zone)
        usage = usage_by_day([(since, until)], zone)
        computed_at = timezone.now()
        with transaction.atomic():
            DailyActivity.objects.bulk_create(
                [
                    DailyActivity(
                        day=day,
                        time_zone=zone.key,
                        computed_at=computed_at,
                        **activity.get(day, empty_activity()),
                    )
                    for day in run
                ],
                update_conflicts=True,
                unique_fields=["tenant", "day"],
                update_fields=["time_zone", "computed_at", *ACTIVITY_FIELDS],
            )
            DailyLLMUsage.objects.filter(day__in=run).delete()
            DailyLLMUsage.objects.bulk_create(
                [DailyLLMUsage(**row) for row in usage],
                update_conflicts=True,
                unique_fields=["tenant", "day", "model", "purpose"],
                update_fields=list(USAGE_FIELDS),
            )


def rollups_refresh_stale(*, days: list[date], zone: ZoneInfo) -> list[date]:
    """Refresh the stale ones among complete `days`; returns them."""
    stale = stale_days(days=days, zone=zone)
    rollups_refresh(days=stale, zone=zone)
    return stale


def rollups_refresh_recent(*, days: int, now: datetime | None = None) -> list[date]:
    """Refresh the stale rollups of the active tenant's last `days` complete days (in its time
    zone), so that no dashboard request has to compute them; returns the days refreshed."""
    zone = current_tenant().zone
    yesterday = timezone.localtime(now or timezone.now(), zone).date() - timedelta(days=1)
    return rollups_refresh_stale(
        days=[yesterday - timedelta(days=n) for n in reversed(range(days))], zone=zone
    )


def rollups_mark_stale(*, tenant_id: int, moment: datetime, until: datetime | None = None) -> None:
    """Source rows of `moment` (to `until`) were deleted: recompute their days at the next
    read.

    Runs in deletion signals, where no tenant scope may be active (a tenant's cascade),
    so it names the tenant explicitly. The UTC dates and their neighbours cover the local
    days in every time zone.
    """
    first, last = utc_day(moment), utc_day(until or moment)
    DailyActivity.all_tenants.filter(
        tenant_id=tenant_id,
        day__gte=min(first, last) - timedelta(days=1),
        day__lte=max(first, last) + timedelta(days=1),
    ).update(computed_at=STALE)


def utc_day(moment: datetime) -> date:
    return moment.astimezone(ZoneInfo("UTC")).date()
