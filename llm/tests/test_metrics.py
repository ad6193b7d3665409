"""LLM alert metrics, registered in the alerts registry, with two tenants."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_scope
from llm.tests.test_usage import make_call

pytestmark = pytest.mark.django_db

NAMES = ("llm.error_rate", "llm.latency_p95", "llm.first_token_p95", "llm.cost_per_day")


@pytest.fixture
def window():
    now = timezone.now()
    return {"since": now - timedelta(hours=1), "until": now + timedelta(hours=1)}


def value(name, tenant, window):
    from alerts.registry import get_metric

    with tenant_scope(tenant):
        return get_metric(name).func(tenant=tenant, **window)


def test_metrics_are_registered_with_their_units():
    from alerts.registry import Unit, get_metric

    assert get_metric("llm.error_rate").unit == Unit.RATIO
    assert get_metric("llm.latency_p95").unit == Unit.MILLISECONDS
    assert get_metric("llm.first_token_p95").unit == Unit.MILLISECONDS
    assert get_metric("llm.cost_per_day").unit == Unit.CNY


def test_values_over_the_window(tenant_a, tenant_b, window):
    now = timezone.now()
    with tenant_scope(tenant_a):
        for latency in (100, 200, 300, 400):
            make_call(created_at=now, latency_ms=latency, first_token_ms=latency // 10)
        make_call(created_at=now, outcome="error", error_type="timeout", latency_ms=30_000)
        make_call(created_at=now, outcome="cancelled", cost=Decimal("0.5"))
        make_call(created_at=now - timedelta(days=2), outcome="error", error_type="timeout")
    with tenant_scope(tenant_b):
        make_call(created_at=now, latency_ms=9_999, cost=Decimal(5))

    assert value("llm.error_rate", tenant_a, window) == pytest.approx(1 / 5)
    assert value("llm.latency_p95", tenant_a, window) == 400
    assert value("llm.first_token_p95", tenant_a, window) == 40
    # 0.55 CNY (cancelled calls cost too) in a two-hour window is 12 x 0.55 a day.
    assert value("llm.cost_per_day", tenant_a, window) == pytest.approx(12 * 0.55)
    assert value("llm.latency_p95", tenant_b, window) == 9_999
    assert value("llm.error_rate", tenant_b, window) == 0


def test_no_calls_is_none_but_zero_cost(tenant_b, window):
    assert value("llm.error_rate", tenant_b, window) is None
    assert value("llm.latency_p95", tenant_b, window) is None
    assert value("llm.first_token_p95", tenant_b, window) is None
    assert value("llm.cost_per_day", tenant_b, window) == 0
