"""The periodic chain, the per-tenant task and the management commands."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from alerts.models import Alert, SchedulerChain
from alerts.tasks import CHAIN_NAME, alerts_tick, evaluate_tenant_alerts, scheduler_start
from helpdesk.config import get_config
from helpdesk.tenancy import TenantScopeError, tenant_scope

pytestmark = pytest.mark.django_db

DB_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def open_alerts(tenant) -> int:
    with tenant_scope(tenant):
        return Alert.objects.filter(status__in=Alert.OPEN_STATUSES).count()


def queued_ticks() -> list:
    from django_tasks_db.models import DBTaskResult

    return list(
        DBTaskResult.objects.filter(task_path="alerts.tasks.alerts_tick").order_by("enqueued_at")
    )


def test_tenant_task_runs_in_the_tenants_scope(tenant_a, tenant_b, probe, make_rule):
    make_rule(tenant_a)
    make_rule(tenant_b)
    probe.values = {"tenant-a": 6000.0, "tenant-b": 6000.0}
    result = evaluate_tenant_alerts.enqueue(tenant_id=tenant_a.pk)
    assert result.return_value == {"fired": 1}
    assert open_alerts(tenant_a) == 1
    assert open_alerts(tenant_b) == 0


def test_tenant_task_refuses_an_inactive_tenant(tenant_a):
    tenant_a.is_active = False
    tenant_a.save()
    with pytest.raises(TenantScopeError):
        evaluate_tenant_alerts.call(tenant_id=tenant_a.pk)


def test_tick_evaluates_every_tenant_and_reschedules_itself(tenant_a, tenant_b, probe, make_rule):
    make_rule(tenant_a)
    make_rule(tenant_b)
    probe.values = {"tenant-a": 6000.0, "tenant-b": 6000.0}
    get_config().set("alerts.evaluation_interval_seconds", 120)
    SchedulerChain.objects.create(name=CHAIN_NAME, token="t1")

    with override_settings(TASKS=DB_BACKEND):
        before = timezone.now()
        assert alerts_tick.call(token="t1") == "enqueued 2"
        [next_tick] = queued_ticks()
    assert next_tick.args_kwargs["kwargs"] == {"token": "t1"}
    assert next_tick.run_after >= before + timedelta(seconds=120)
    assert SchedulerChain.objects.get().last_run_at is not None


def test_superseded_chain_stops(tenant_a, probe, make_rule):
    make_rule(tenant_a)
    probe.values = {"tenant-a": 6000.0}
    SchedulerChain.objects.create(name=CHAIN_NAME, token="new")
    with override_settings(TASKS=DB_BACKEND):
        assert alerts_tick.call(token="old") == "superseded"
        assert queued_ticks() == []
    assert open_alerts(tenant_a) == 0


def test_disabled_evaluation_keeps_the_chain_but_evaluates_nothing(tenant_a, probe, make_rule):
    make_rule(tenant_a)
    probe.values = {"tenant-a": 6000.0}
    get_config().set("alerts.enabled", False)
    SchedulerChain.objects.create(name=CHAIN_NAME, token="t")
    with override_settings(TASKS=DB_BACKEND):
        assert alerts_tick.call(token="t") == "disabled"
        assert len(queued_ticks()) == 1
    assert open_alerts(tenant_a) == 0


def test_scheduler_start_keeps_one_chain():
    with override_settings(TASKS=DB_BACKEND):
        started, token = scheduler_start()
        assert started
        again, same = scheduler_start()
        assert (again, same) == (False, token)
        forced, new_token = scheduler_start(force=True)
        assert forced and new_token != token
        assert SchedulerChain.objects.get().token == new_token
        # The first chain's tick is still queued; when it runs it ends without re-enqueueing.
        assert alerts_tick.call(token=token) == "superseded"
        assert [t.args_kwargs["kwargs"]["token"] for t in queued_ticks()] == [token, new_token]


def test_stale_chain_is_restarted():
    with override_settings(TASKS=DB_BACKEND):
        _, token = scheduler_start()
        SchedulerChain.objects.update(started_at=timezone.now() - timedelta(hours=2))
        started, new_token = scheduler_start()
    assert started and new_token != token


def test_start_command(capsys):
    out = StringIO()
    with override_settings(TASKS=DB_BACKEND):
        call_command("start_alert_scheduler", stdout=out)
        call_command("start_alert_scheduler", stdout=out)
    assert "started" in out.getvalue() and "already running" in out.getvalue()
    with pytest.raises(CommandError, match="cannot run deferred tasks"):
        call_command("start_alert_scheduler")  # the test settings' ImmediateBackend


def test_evaluate_command_all_tenants_and_one(tenant_a, tenant_b, probe, make_rule):
    make_rule(tenant_a)
    make_rule(tenant_b)
    probe.values = {"tenant-a": 6000.0, "tenant-b": 6000.0}
    out = StringIO()
    call_command("evaluate_alerts", "--tenant", "tenant-a", stdout=out)
    assert "tenant-a: 1 rules (fired=1)" in out.getvalue()
    assert (open_alerts(tenant_a), open_alerts(tenant_b)) == (1, 0)

    out = StringIO()
    call_command("evaluate_alerts", stdout=out)
    assert "tenant-a: 1 rules (updated=1)" in out.getvalue()
    assert "tenant-b: 1 rules (fired=1)" in out.getvalue()

    with pytest.raises(CommandError):
        call_command("evaluate_alerts", "--tenant", "nobody")


def test_evaluate_command_respects_the_switch(tenant_a, probe, make_rule):
    make_rule(tenant_a)
    probe.values = {"tenant-a": 6000.0}
    get_config().set("alerts.enabled", False)
    out = StringIO()
    call_command("evaluate_alerts", stdout=out)
    assert "disabled" in out.getvalue()
    assert open_alerts(tenant_a) == 0


def test_demo_seed_is_idempotent(tenant_a):
    from alerts.demo import seed
    from alerts.models import AlertRule

    with tenant_scope(tenant_a):
        seed(tenant_a)
        seed(tenant_a)
        assert AlertRule.objects.count() == 9
        assert Alert.objects.filter(source="manual").count() == 1
        assert (
            Alert.objects.filter(status__in=Alert.OPEN_STATUSES).values("rule").distinct().count()
            == Alert.objects.filter(status__in=Alert.OPEN_STATUSES).count()
        )
