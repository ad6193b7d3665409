from datetime import date, datetime, timedelta

import pytest

from reports.periods import PeriodError, period_of, preset_period
from reports.tests.conftest import SHANGHAI, at


def test_preset_today_compares_with_yesterday_until_the_same_time():
    now = at("2026-03-11 15:00")
    today = preset_period("today", zone=SHANGHAI, now=now)
    assert (today.start, today.end, today.since, today.until) == (
        date(2026, 3, 11),
        date(2026, 3, 11),
        at("2026-03-11 00:00"),
        now,
    )
    previous = today.previous()
    assert (previous.start, previous.since, previous.until) == (
        date(2026, 3, 10),
        at("2026-03-10 00:00"),
        at("2026-03-10 15:00"),
    )


def test_complete_period_and_its_previous():
    period = period_of(
        start=date(2026, 3, 1), end=date(2026, 3, 7), zone=SHANGHAI, now=at("2026-04-01 00:00")
    )
    assert period.days == 7 and period.until == at("2026-03-08 00:00")
    previous = period.previous()
    assert (previous.start, previous.end, previous.until) == (
        date(2026, 2, 22),
        date(2026, 2, 28),
        at("2026-03-01 00:00"),
    )
    assert len(period.day_list()) == 7


def test_bad_periods():
    with pytest.raises(PeriodError):
        period_of(start=date(2026, 3, 2), end=date(2026, 3, 1), zone=SHANGHAI)
    with pytest.raises(PeriodError):
        period_of(start=date(2025, 1, 1), end=date(2026, 3, 1), zone=SHANGHAI)
    with pytest.raises(PeriodError):
        preset_period("90d", zone=SHANGHAI)


def test_future_days_have_not_begun():
    now = datetime(2026, 3, 5, 12, tzinfo=SHANGHAI)
    period = period_of(start=date(2026, 3, 1), end=date(2026, 3, 10), zone=SHANGHAI, now=now)
    assert period.day_list()[-1] == date(2026, 3, 5)
    assert period.until == now
    assert period.previous().until == now - timedelta(days=10)
