"""The registry and the work-order metrics (two tenants, real rows, explicit windows)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.registry import Unit, all_metrics, get_metric, metric, unregister
from helpdesk.tenancy import tenant_scope
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_registry_lists_metrics_of_every_app_with_units():
    names = {m.name: m.unit for m in all_metrics()}
    assert names["workorders.backlog"] is Unit.COUNT
    assert names["workorders.overdue"] is Unit.COUNT
    assert names["workorders.avg_resolution_hours"] is Unit.HOURS
    assert names["workorders.avg_satisfaction"] is Unit.SCORE
    assert names["workorders.created_per_hour"] is Unit.PER_HOUR


def test_a_name_cannot_be_registered_twice():
    def one(*, tenant, since, until):
        return 1.0

    def other(*, tenant, since, until):
        return 2.0

    metric("test.twice", unit=Unit.COUNT, label="x")(one)
    try:
        metric("test.twice", unit=Unit.COUNT, label="x")(one)  # re-import: harmless
        with pytest.raises(ValueError, match="already registered"):
            metric("test.twice", unit=Unit.SECONDS, label="x")(other)
        assert get_metric("test.twice").unit is Unit.COUNT
    finally:
        unregister("test.twice")


@pytest.mark.parametrize(
    ("unit", "value", "text"),
    [
        (Unit.RATIO, 0.625, "62.5%"),
        (Unit.CNY, 120, "¥120.00"),
        (Unit.COUNT, 3, "3 items"),
        (Unit.MILLISECONDS, 5200.0, "5200 ms"),
        (Unit.HOURS, 1.5, "1.5 h"),
    ],
)
def test_values_are_shown_with_their_unit(unit, value, text):
    from django.utils import translation

    with translation.override("en"):
        assert unit.format(value) == text


def test_thresholds_are_checked_in_the_unit():
    Unit.RATIO.check_threshold(0.6)
    with pytest.raises(ValueError):
        Unit.RATIO.check_threshold(60)
    with pytest.raises(ValueError):
        Unit.MILLISECONDS.check_threshold(-1)
    Unit.MILLISECONDS.check_threshold(5000)


def make(tenant, n: int, **fields) -> WorkOrder:
    with tenant_scope(tenant):
        return WorkOrder.objects.create(number=f"WO-T-{n:04d}", title=f"工单{n}", **fields)


def measure(name, tenant, since, until):
    with tenant_scope(tenant):
        return get_metric(name).measure(tenant=tenant, since=since, until=until)


def test_workorder_metrics(tenant_a, tenant_b):
    now = timezone.now()
    hour = timedelta(hours=1)
    since = now - 2 * hour
    # Tenant A: two open (one overdue), one in progress, one resolved in the window after 4 h
    # rated 2, one resolved in the window after 2 h rated 4, one resolved long ago rated 5.
    make(tenant_a, 1, status="open", created_at=now - 30 * 60 * timedelta(seconds=1))
    make(tenant_a, 2, status="open", created_at=now - 3 * hour, due_at=now - hour)
    make(tenant_a, 3, status="in_progress", created_at=now - hour)
    make(
        tenant_a,
        4,
        status="resolved",
        created_at=now - 5 * hour,
        resolved_at=now - hour,
        satisfaction=2,
    )
    make(
        tenant_a,
        5,
        status="closed",
        created_at=now - 3 * hour,
        resolved_at=now - hour,
        satisfaction=4,
    )
    make(
        tenant_a,
        6,
        status="resolved",
        created_at=now - 50 * hour,
        resolved_at=now - 40 * hour,
        satisfaction=5,
    )
    # Tenant B: lots of overdue work that tenant A must never see.
    for n in range(10):
        make(tenant_b, n, status="open", created_at=now - hour, due_at=now - hour)

    assert measure("workorders.backlog", tenant_a, since, now) == 3
    assert measure("workorders.overdue", tenant_a, since, now) == 1
    assert measure("workorders.avg_resolution_hours", tenant_a, since, now) == pytest.approx(3)
    assert measure("workorders.avg_satisfaction", tenant_a, since, now) == pytest.approx(3)
    # Created in the last two hours: #1 and #3.
    assert measure("workorders.created_per_hour", tenant_a, since, now) == pytest.approx(1)

    assert measure("workorders.backlog", tenant_b, since, now) == 10
    assert measure("workorders.overdue", tenant_b, since, now) == 10
    assert measure("workorders.avg_satisfaction", tenant_b, since, now) is None
    assert measure("workorders.avg_resolution_hours", tenant_b, since, now) is None


def test_backlog_is_the_state_at_the_end_of_the_window(tenant_a):
    now = timezone.now()
    make(tenant_a, 1, status="open", created_at=now - timedelta(minutes=5))
    earlier = now - timedelta(hours=1)
    assert measure("workorders.backlog", tenant_a, earlier - timedelta(hours=1), earlier) == 0
    assert measure("workorders.backlog", tenant_a, earlier, now) == 1
