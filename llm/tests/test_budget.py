"""Monthly budgets: configuration per tenant, cached usage kept current by each recorded
call, a new month starting from zero, the hard stop, its reason and the alert metric."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from helpdesk.config import get_config
from helpdesk.rate_limits import resilient_cache
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import free_port
from llm.budget import (
    budget_exhausted,
    budget_state,
    budget_stop_reason,
    budget_usage_add,
    month_of,
    tenant_budget,
)
from llm.client import get_llm_client
from llm.models import LLMCall
from llm.services import llm_call_record

pytestmark = pytest.mark.django_db


def record(tokens: int, cost: str = "0", **fields) -> LLMCall:
    values = {
        "purpose": "chat",
        "model": "m",
        "stream": False,
        "prompt_tokens": tokens,
        "completion_tokens": 0,
        "usage_reported": True,
        "cost": Decimal(cost),
        "latency_ms": 10,
        "first_token_ms": None,
        "attempts": 1,
        "outcome": "ok",
        "error_type": "",
        "status_code": 200,
        **fields,
    }
    return llm_call_record(**values)


@pytest.fixture
def budgets():
    get_config().update(
        {
            "budget.monthly_tokens": 1000,
            "budget.tenants": {"tenant-a": {"monthly_tokens": 500, "hard_stop": True}},
        }
    )


def test_budget_per_tenant_from_the_configuration(tenant_a, tenant_b, budgets):
    a, b = tenant_budget(tenant_a), tenant_budget(tenant_b)
    assert (a.monthly_tokens, a.monthly_cost, a.hard_stop) == (500, Decimal("0.0"), True)
    assert (b.monthly_tokens, b.hard_stop) == (1000, False)


def test_bad_budget_configuration_is_refused():
    from helpdesk.config_schema import ConfigError

    with pytest.raises(ConfigError, match=r"budget\.tenants"):
        get_config().update({"budget.tenants": {"acme": {"monthly_tokens": -1}}})
    with pytest.raises(ConfigError, match=r"budget\.tenants"):
        get_config().update({"budget.tenants": {"acme": {"tokens": 5}}})


def test_without_budget_nothing_is_read(tenant_a, django_assert_num_queries):
    with tenant_scope(tenant_a), django_assert_num_queries(0):
        assert budget_exhausted() is False


def test_usage_is_cached_and_kept_current(
    tenant_a, tenant_b, budgets, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with tenant_scope(tenant_b), django_capture_on_commit_callbacks(execute=True):
        record(10_000)
    with tenant_scope(tenant_a):
        with django_capture_on_commit_callbacks(execute=True):
            record(300, "0.5")
        assert budget_exhausted() is False
        with django_assert_num_queries(0):
            assert budget_exhausted() is False
            assert budget_state().tokens_used == 300
        with django_capture_on_commit_callbacks(execute=True):
            record(250, "0.25")
        with django_assert_num_queries(0):
            state = budget_state()
            assert (state.tokens_used, state.cost_used) == (550, Decimal("0.75"))
            assert state.stopped and budget_exhausted() is True
        reason = budget_stop_reason()
        assert "550" in reason and "0.75" in reason
    with tenant_scope(tenant_b):
        state = budget_state()
        assert state.tokens_used == 10_000 and state.spent and not state.stopped
        assert budget_exhausted() is False and budget_stop_reason() == ""


def test_a_rolled_back_call_does_not_count(tenant_a, budgets, django_capture_on_commit_callbacks):
    with tenant_scope(tenant_a):
        assert budget_state().tokens_used == 0
        with django_capture_on_commit_callbacks(execute=False):
            record(900)
        # The test's transaction is rolled back at the end; the callback never ran.
        assert budget_state().tokens_used == 0


def test_a_new_month_starts_from_zero(tenant_a, budgets, django_capture_on_commit_callbacks):
    with tenant_scope(tenant_a):
        with django_capture_on_commit_callbacks(execute=True):
            record(600)
        assert budget_exhausted() is True
        month = month_of(tenant_a)
        next_month = datetime(
            month.year + month.month // 12, month.month % 12 + 1, 1, 0, 0, 1, tzinfo=tenant_a.zone
        )
        assert budget_state(next_month).tokens_used == 0
        assert budget_state(next_month - timedelta(seconds=2)).tokens_used == 600


def test_month_follows_the_tenant_time_zone(tenant_a):
    # 2026-03-31 17:00 UTC is already April 1st in Shanghai.
    moment = datetime(2026, 3, 31, 17, tzinfo=timezone.UTC)
    assert month_of(tenant_a, moment).month == 4
    tenant_a.time_zone = "UTC"
    assert month_of(tenant_a, moment).month == 3


def test_calls_of_the_real_client_count(tenant_a, llm_config, django_capture_on_commit_callbacks):
    get_config().update({"budget.monthly_cost": 0.00005, "budget.hard_stop": True})
    with tenant_scope(tenant_a):
        assert budget_exhausted() is False
        with django_capture_on_commit_callbacks(execute=True):
            result = get_llm_client().complete(
                [{"role": "user", "content": "你好"}], purpose="chat"
            )
        state = budget_state()
        assert state.tokens_used == result.prompt_tokens + result.completion_tokens > 0
        assert state.cost_used == result.cost > Decimal("0.00005")
        assert budget_exhausted() is True


def test_budget_metric(tenant_a, tenant_b, budgets, django_capture_on_commit_callbacks):
    from alerts.registry import Unit, get_metric

    metric = get_metric("llm.budget_used")
    assert metric.unit == Unit.RATIO
    now = timezone.now()
    with tenant_scope(tenant_a):
        with django_capture_on_commit_callbacks(execute=True):
            record(400)
        assert metric.func(tenant=tenant_a, since=now, until=now) == pytest.approx(0.8)
    get_config().update({"budget.monthly_tokens": 0})
    with tenant_scope(tenant_b):
        assert metric.func(tenant=tenant_b, since=now, until=now) is None


def test_default_rules_fire_at_80_and_100_percent(
    tenant_a, budgets, django_capture_on_commit_callbacks
):
    from alerts.evaluation import alerts_evaluate_tenant
    from alerts.models import Alert, AlertRule
    from alerts.services import alert_rules_create_defaults

    alert_rules_create_defaults(tenant=tenant_a)
    with tenant_scope(tenant_a):
        rules = AlertRule.objects.filter(metric="llm.budget_used").order_by("threshold")
        assert [(r.comparison, r.threshold, r.level) for r in rules] == [
            ("gte", 0.8, "warning"),
            ("gte", 1.0, "error"),
        ]
        with django_capture_on_commit_callbacks(execute=True):
            record(420)
    alerts_evaluate_tenant(tenant=tenant_a)
    with tenant_scope(tenant_a):
        assert list(
            Alert.objects.filter(metric="llm.budget_used").values_list("level", flat=True)
        ) == ["warning"]
        with django_capture_on_commit_callbacks(execute=True):
            record(100)
    alerts_evaluate_tenant(tenant=tenant_a)
    with tenant_scope(tenant_a):
        levels = Alert.objects.filter(metric="llm.budget_used").values_list("level", flat=True)
        assert sorted(levels) == ["error", "warning"]


def test_with_the_cache_down_calls_are_counted_in_process_memory(tenant_a, budgets, settings):
    """A dead Redis fails neither the hard-stop check nor adding a recorded call (which
    the chat stream does after its answer was sent)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    resilient_cache.clear_local()
    try:
        with tenant_scope(tenant_a):
            call = record(300)
            assert budget_exhausted() is False
            assert budget_state().tokens_used == 300
            later = record(250)
            budget_usage_add(
                tenant=tenant_a, created_at=later.created_at, tokens=250, cost=later.cost
            )
            assert budget_state().tokens_used == 550 and budget_exhausted() is True
            assert call.pk and LLMCall.objects.count() == 2
    finally:
        resilient_cache.clear_local()
