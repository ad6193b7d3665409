"""How the stored rollups stay right: computed once for settled days, recomputed while a day
may still change, after a deletion and after a time-zone change; today is never stored."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dialogue.models import ChatSession, Message
from helpdesk.tenancy import tenant_scope
from reports.counters import counters_with_previous
from reports.daily import daily_numbers_of
from reports.models import DailyActivity
from reports.periods import local_midnight, period_of, preset_period
from reports.services import REFRESH_UNSETTLED, stale_days
from reports.tests.conftest import SHANGHAI, at

pytestmark = pytest.mark.django_db

TENTH = date(2026, 3, 10)


def two_days():
    return period_of(start=TENTH, end=TENTH + timedelta(days=1), zone=SHANGHAI)


@pytest.fixture
def chats(tenant_a, make_session):
    first = make_session(
        tenant_a,
        at("2026-03-10 09:00"),
        messages=[("user", at("2026-03-10 09:00"), {}), ("assistant", at("2026-03-10 09:01"), {})],
    )
    second = make_session(
        tenant_a, at("2026-03-11 09:00"), messages=[("user", at("2026-03-11 09:00"), {})]
    )
    return first, second


def conversations(period) -> int:
    return counters_with_previous(period)["conversations"]["value"]


def test_settled_days_are_computed_once(chats, tenant_a, make_session, django_assert_num_queries):
    with tenant_scope(tenant_a):
        assert conversations(two_days()) == 2
        assert set(DailyActivity.objects.values_list("day", flat=True)) == {
            TENTH - timedelta(days=2),
            TENTH - timedelta(days=1),
            TENTH,
            TENTH + timedelta(days=1),
        }
        # A row written straight into a settled day (no service does this) stays uncounted:
        # the day's rollup is final.
        make_session(tenant_a, at("2026-03-10 10:00"))
        assert conversations(two_days()) == 2
        assert stale_days(days=[TENTH], zone=SHANGHAI) == []


def test_deleting_a_conversation_marks_its_day(chats, tenant_a):
    first, _second = chats
    with tenant_scope(tenant_a):
        assert conversations(two_days()) == 2
        first.delete()  # and its messages, by cascade
        assert stale_days(days=[TENTH], zone=SHANGHAI) == [TENTH]
        assert conversations(two_days()) == 1
        assert daily_numbers_of([two_days()])[0].activity[TENTH]["answers"] == 0


def updates_of_rollups(queries) -> int:
    return sum(q["sql"].startswith('UPDATE "reports_dailyactivity"') for q in queries)


def test_a_bulk_delete_marks_each_day_once(tenant_a, make_session):
    """Not one update per conversation or message: once per deletion and day."""
    for hour in range(3):
        make_session(
            tenant_a,
            at(f"2026-03-10 1{hour}:00"),
            messages=[("user", at(f"2026-03-10 1{hour}:00"), {}) for _ in range(4)],
        )
    with tenant_scope(tenant_a):
        ChatSession.objects.update(last_activity_at=at("2026-03-10 23:00"))
        assert conversations(two_days()) == 3
        assert stale_days(days=[TENTH], zone=SHANGHAI) == []
        with CaptureQueriesContext(connection) as deleting:
            deleted, _by_model = ChatSession.objects.filter(
                started_at__lt=at("2026-03-10 12:00")
            ).delete()
        assert deleted == 2 + 8
        assert updates_of_rollups(deleting.captured_queries) == 1
        assert stale_days(days=[TENTH], zone=SHANGHAI) == [TENTH]
        assert conversations(two_days()) == 1
        with CaptureQueriesContext(connection) as deleting:
            Message.objects.all().delete()
        assert updates_of_rollups(deleting.captured_queries) == 1
        assert stale_days(days=[TENTH], zone=SHANGHAI) == [TENTH]
        assert daily_numbers_of([two_days()])[0].activity[TENTH]["conversations"] == 1


def test_unsettled_days_are_recomputed_when_old(tenant_a, make_session):
    yesterday = timezone.localtime(timezone.now(), SHANGHAI).date() - timedelta(days=1)
    noon = local_midnight(yesterday, SHANGHAI) + timedelta(hours=12)
    make_session(tenant_a, noon)
    period = period_of(start=yesterday, end=yesterday, zone=SHANGHAI)
    with tenant_scope(tenant_a):
        assert conversations(period) == 1
        assert stale_days(days=[yesterday], zone=SHANGHAI) == []
        later = timezone.now() + REFRESH_UNSETTLED + timedelta(seconds=1)
        assert stale_days(days=[yesterday], zone=SHANGHAI, now=later) == [yesterday]
        ChatSession.objects.filter(started_at=noon).update(handoff_reason="keyword")
        DailyActivity.objects.filter(day=yesterday).update(
            computed_at=timezone.now() - REFRESH_UNSETTLED - timedelta(seconds=1)
        )
        assert counters_with_previous(period)["handoff_rate"]["value"] == 1.0


def test_today_is_counted_live_and_never_stored(tenant_a, make_session):
    with tenant_scope(tenant_a):
        today = preset_period("today", zone=SHANGHAI)
        assert conversations(today) == 0
        make_session(tenant_a, timezone.now() - timedelta(seconds=5))
        assert conversations(preset_period("today", zone=SHANGHAI)) == 1
        assert not DailyActivity.objects.filter(day=today.start).exists()


def test_a_new_time_zone_recomputes_the_days(chats, tenant_a):
    from zoneinfo import ZoneInfo

    with tenant_scope(tenant_a):
        assert conversations(two_days()) == 2
        utc = ZoneInfo("UTC")
        assert stale_days(days=[TENTH], zone=utc) == [TENTH]
        conversations(period_of(start=TENTH, end=TENTH, zone=utc))
        assert DailyActivity.objects.get(day=TENTH).time_zone == "UTC"


def test_rollups_are_per_tenant(chats, tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        conversations(two_days())
    with tenant_scope(tenant_b):
        assert not DailyActivity.objects.exists()
        assert conversations(two_days()) == 0
        assert DailyActivity.objects.get(day=TENTH).conversations == 0
    with tenant_scope(tenant_a):
        assert DailyActivity.objects.get(day=TENTH).conversations == 1
        assert Message.objects.count() == 3


def test_a_period_and_the_previous_one_are_read_together(
    chats, tenant_a, django_assert_num_queries
):
    with tenant_scope(tenant_a):
        conversations(two_days())
        # Complete days only: one staleness check, one read of each rollup table, and the
        # work-order counters of both periods.
        with django_assert_num_queries(4):
            assert counters_with_previous(two_days())["conversations"]["previous"] == 0
        week = preset_period("7d", zone=SHANGHAI)
        conversations(week)
        # With a day in progress in each period: one live count per source for both.
        with django_assert_num_queries(7):
            counters_with_previous(week)


def test_rollups_computed_ahead_by_the_command(tenant_a, tenant_b, make_session):
    yesterday = timezone.localtime(timezone.now(), SHANGHAI).date() - timedelta(days=1)
    make_session(tenant_a, local_midnight(yesterday, SHANGHAI) + timedelta(hours=9))
    out = StringIO()
    call_command("refresh_report_rollups", "--tenant", tenant_a.slug, "--days", "3", stdout=out)
    assert out.getvalue() == f"{tenant_a.slug}: 3 days computed\n"
    with tenant_scope(tenant_a):
        stored = dict(DailyActivity.objects.values_list("day", "conversations"))
        assert stored == {yesterday - timedelta(days=n): int(n == 0) for n in range(3)}
    with tenant_scope(tenant_b):
        assert not DailyActivity.objects.exists()
    out = StringIO()
    call_command("refresh_report_rollups", "--days", "3", stdout=out)
    # Tenant A's days were just computed: nothing to do until they are due again.
    assert out.getvalue() == f"{tenant_a.slug}: 0 days computed\n{tenant_b.slug}: 3 days computed\n"
