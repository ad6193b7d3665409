"""Report periods: whole local days of the tenant's time zone, and the period before.

A period runs from the start of its first day to the end of its last day, or to now when
it reaches into the future ("today", "the last 7 days"). The previous period has as many
days and ends as far into its last day: today until 15:00 compares with yesterday until
15:00.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _

MAX_DAYS = 366
PRESETS = {"today": 1, "7d": 7, "30d": 30}


class PeriodError(ValueError):
    """A period that cannot be reported on; the message says why, for people."""


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    zone: ZoneInfo
    now: datetime

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        return local_midnight(self.start, self.zone)

    @property
    def until(self) -> datetime:
        """The end of the last day, or now when that is still to come."""
        return min(local_midnight(self.end + timedelta(days=1), self.zone), self.now)

    def day_list(self) -> list[date]:
        """The local days of the period that have begun."""
        today = timezone.localtime(self.now, self.zone).date()
        last = min(self.end, today)
        return [self.start + timedelta(days=n) for n in range((last - self.start).days + 1)]

    def previous(self) -> Period:
        """The same number of days just before, cut at the same time of day as this one."""
        shift = timedelta(days=self.days)
        until = self.until
        local_until = timezone.localtime(until, self.zone).replace(tzinfo=None) - shift
        return Period(
            start=self.start - shift,
            end=self.end - shift,
            zone=self.zone,
            now=local_until.replace(tzinfo=self.zone),
        )


def today_in(zone: ZoneInfo, now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), zone).date()


# Reports cover the product's own era: before 1970 a time zone has odd local-mean-time
# offsets and there is nothing to count anyway.
EARLIEST = date(1970, 1, 2)
LATEST = date(2999, 12, 30)


def check_era(*days: date) -> None:
    """PeriodError unless every one of `days` is between EARLIEST and LATEST."""
    if not all(EARLIEST <= day <= LATEST for day in days):
        raise PeriodError(_("Give dates between 1970 and 2999."))


def period_of(*, start: date, end: date, zone: ZoneInfo, now: datetime | None = None) -> Period:
    check_era(start, end)
    if end < start:
        raise PeriodError(_("The end date is before the start date."))
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodError(_("A period may span at most %(days)d days.") % {"days": MAX_DAYS})
    return Period(start=start, end=end, zone=zone, now=now or timezone.now())


def preset_period(name: str, *, zone: ZoneInfo, now: datetime | None = None) -> Period:
    """`today`, `7d` or `30d`: the last days up to and including today."""
    if name not in PRESETS:
        raise PeriodError(_("Unknown period %(name)s.") % {"name": name})
    now = now or timezone.now()
    end = today_in(zone, now)
    return period_of(start=end - timedelta(days=PRESETS[name] - 1), end=end, zone=zone, now=now)
