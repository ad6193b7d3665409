"""The evaluator: firing, repeats, cooldown, auto-resolve, disabled rules, failures, units."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.evaluation import Outcome, alerts_evaluate_all, alerts_evaluate_tenant
from alerts.models import Alert, AlertNotification, AlertRule
from alerts.registry import Unit
from alerts.services import alert_resolve, alert_rules_create_defaults
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


def outcomes(tenant, now=None) -> list[str]:
    return [r.outcome for r in alerts_evaluate_tenant(tenant=tenant, now=now)]


def alerts_of(tenant):
    with tenant_scope(tenant):
        return list(Alert.objects.order_by("id"))


def test_fires_one_alert_with_zh_message_and_notification(tenant_a, probe, make_rule):
    rule = make_rule(tenant_a, threshold=5000)
    probe.values["tenant-a"] = 5200.0

    assert outcomes(tenant_a) == [Outcome.FIRED]

    [alert] = alerts_of(tenant_a)
    assert alert.rule_id == rule.pk
    assert alert.status == Alert.Status.ACTIVE
    assert (alert.value, alert.threshold, alert.unit) == (5200.0, 5000.0, "ms")
    assert alert.count == 1
    assert alert.title == "探针过高"
    assert "5200 毫秒" in alert.message and "高于阈值" in alert.message
    with tenant_scope(tenant_a):
        [notification] = AlertNotification.objects.all()
        rule.refresh_from_db()
    assert (notification.event, notification.channel) == ("opened", "in_app")
    assert rule.last_value == 5200.0 and rule.last_error == ""


def test_window_is_the_rules_window(tenant_a, probe, make_rule):
    make_rule(tenant_a, window_minutes=45)
    probe.values["tenant-a"] = 1.0
    now = timezone.now()
    outcomes(tenant_a, now=now)
    assert probe.windows == [(now - timedelta(minutes=45), now)]


def test_repeat_firing_updates_the_open_alert(tenant_a, probe, make_rule):
    make_rule(tenant_a)
    probe.values["tenant-a"] = 6000.0
    start = timezone.now()
    outcomes(tenant_a, now=start)
    probe.values["tenant-a"] = 7000.0
    assert outcomes(tenant_a, now=start + timedelta(minutes=1)) == [Outcome.UPDATED]
    assert outcomes(tenant_a, now=start + timedelta(minutes=2)) == [Outcome.UPDATED]

    [alert] = alerts_of(tenant_a)
    assert alert.count == 3
    assert alert.value == 7000.0
    assert alert.first_seen_at == start
    assert alert.last_seen_at == start + timedelta(minutes=2)
    with tenant_scope(tenant_a):
        assert AlertNotification.objects.count() == 1


def test_acknowledged_alert_is_updated_not_duplicated(tenant_a, agent_a, probe, make_rule):
    make_rule(tenant_a)
    probe.values["tenant-a"] = 6000.0
    outcomes(tenant_a)
    with tenant_scope(tenant_a):
        alert = Alert.objects.get()
        alert.status = Alert.Status.ACKNOWLEDGED
        alert.save()
    assert outcomes(tenant_a) == [Outcome.UPDATED]
    [alert] = alerts_of(tenant_a)
    assert alert.status == Alert.Status.ACKNOWLEDGED and alert.count == 2


def test_auto_resolve_when_condition_clears(tenant_a, probe, make_rule):
    make_rule(tenant_a, auto_resolve=True)
    probe.values["tenant-a"] = 6000.0
    outcomes(tenant_a)
    probe.values["tenant-a"] = 800.0
    assert outcomes(tenant_a) == [Outcome.RESOLVED]

    [alert] = alerts_of(tenant_a)
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_by is None and alert.resolved_at is not None
    assert "自动" in alert.resolution_note
    with tenant_scope(tenant_a):
        events = sorted(AlertNotification.objects.values_list("event", flat=True))
    assert events == ["opened", "resolved"]


def test_without_auto_resolve_the_alert_stays_open(tenant_a, probe, make_rule):
    make_rule(tenant_a, auto_resolve=False)
    probe.values["tenant-a"] = 6000.0
    outcomes(tenant_a)
    probe.values["tenant-a"] = 800.0
    assert outcomes(tenant_a) == [Outcome.OK]
    [alert] = alerts_of(tenant_a)
    assert alert.status == Alert.Status.ACTIVE


def test_no_data_changes_nothing(tenant_a, probe, make_rule):
    make_rule(tenant_a)
    probe.values["tenant-a"] = 6000.0
    outcomes(tenant_a)
    probe.values["tenant-a"] = None
    assert outcomes(tenant_a) == [Outcome.NO_DATA]
    [alert] = alerts_of(tenant_a)
    assert alert.status == Alert.Status.ACTIVE and alert.count == 1


def test_cooldown_after_resolution(tenant_a, probe, make_rule):
    make_rule(tenant_a, cooldown_minutes=30)
    start = timezone.now()
    probe.values["tenant-a"] = 6000.0
    outcomes(tenant_a, now=start)
    probe.values["tenant-a"] = 100.0
    outcomes(tenant_a, now=start + timedelta(minutes=1))  # auto-resolved at start+1
    [alert] = alerts_of(tenant_a)
    resolved_at = alert.resolved_at

    probe.values["tenant-a"] = 6000.0
    assert outcomes(tenant_a, now=resolved_at + timedelta(minutes=29)) == [Outcome.COOLDOWN]
    assert len(alerts_of(tenant_a)) == 1
    assert outcomes(tenant_a, now=resolved_at + timedelta(minutes=31)) == [Outcome.FIRED]
    first, second = alerts_of(tenant_a)
    assert first.status == Alert.Status.RESOLVED and second.status == Alert.Status.ACTIVE


def test_cooldown_also_after_manual_resolution(tenant_a, agent_a, probe, make_rule):
    make_rule(tenant_a, cooldown_minutes=60, auto_resolve=False)
    probe.values["tenant-a"] = 6000.0
    outcomes(tenant_a)
    with tenant_scope(tenant_a):
        alert_resolve(alert=Alert.objects.get(), actor=agent_a, note="已处理")
    assert outcomes(tenant_a) == [Outcome.COOLDOWN]


def test_disabled_rules_are_not_evaluated(tenant_a, probe, make_rule):
    make_rule(tenant_a, enabled=False)
    probe.values["tenant-a"] = 6000.0
    assert outcomes(tenant_a) == []
    assert alerts_of(tenant_a) == []
    assert probe.windows == []


def test_failing_metric_is_logged_and_others_still_run(tenant_a, make_probe, make_rule, caplog):
    broken = make_probe("test.broken", Unit.COUNT)
    working = make_probe("test.working", Unit.COUNT)
    broken.values["tenant-a"] = ZeroDivisionError("boom")
    working.values["tenant-a"] = 9.0
    bad = make_rule(tenant_a, name="坏指标", metric="test.broken", threshold=1)
    make_rule(tenant_a, name="好指标", metric="test.working", threshold=1)

    with caplog.at_level(logging.ERROR, logger="alerts.evaluation"):
        assert outcomes(tenant_a) == [Outcome.ERROR, Outcome.FIRED]

    assert "test.broken failed" in caplog.text
    assert "ZeroDivisionError: boom" in caplog.text
    bad.refresh_from_db()
    assert "ZeroDivisionError" in bad.last_error and "boom" not in bad.last_error
    assert [a.title for a in alerts_of(tenant_a)] == ["好指标"]


def test_metric_with_a_database_error_does_not_poison_the_transaction(
    tenant_a, make_probe, make_rule
):
    from django.db import connection

    def bad_sql(*, tenant, since, until):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_for_alerts")

    broken = make_probe("test.sql", Unit.COUNT)
    broken.values["tenant-a"] = None
    from alerts.registry import metric, unregister

    unregister("test.sql")
    metric("test.sql", unit=Unit.COUNT, label="坏 SQL")(bad_sql)
    working = make_probe("test.after", Unit.COUNT)
    working.values["tenant-a"] = 5.0
    make_rule(tenant_a, name="SQL", metric="test.sql", threshold=1)
    make_rule(tenant_a, name="之后", metric="test.after", threshold=1)

    assert outcomes(tenant_a) == [Outcome.ERROR, Outcome.FIRED]


def test_unregistered_metric_is_skipped(tenant_a, probe, make_rule, caplog):
    rule = make_rule(tenant_a)
    with tenant_scope(tenant_a):
        AlertRule.objects.filter(pk=rule.pk).update(metric="plugin.gone")
    with caplog.at_level(logging.WARNING, logger="alerts.evaluation"):
        assert outcomes(tenant_a) == [Outcome.SKIPPED]
    assert "plugin.gone is not registered" in caplog.text
    rule.refresh_from_db()
    assert "plugin.gone" in rule.last_error


def test_default_rules_without_their_metrics_do_not_crash(tenant_a, make_probe):
    """Rules of metrics that no app registered (yet) are skipped; the rest evaluate."""
    alert_rules_create_defaults(tenant=tenant_a)
    with tenant_scope(tenant_a):
        backlog = AlertRule.objects.get(name="工单积压")
        AlertRule.objects.filter(pk=backlog.pk).update(metric="not.installed")
    results = alerts_evaluate_tenant(tenant=tenant_a)
    assert len(results) == 9
    by_rule = {r.rule_id: r.outcome for r in results}
    assert by_rule[backlog.pk] == Outcome.SKIPPED


# Units ----------------------------------------------------------------------------------------


def test_millisecond_metric_is_compared_with_a_millisecond_threshold(
    tenant_a, make_probe, make_rule
):
    latency = make_probe("test.latency_ms", Unit.MILLISECONDS)
    rule = make_rule(tenant_a, metric="test.latency_ms", threshold=5000)
    assert rule.unit == "ms"

    latency.values["tenant-a"] = 4900.0  # 4.9 s: under 5000 ms, must not fire
    assert outcomes(tenant_a) == [Outcome.OK]
    latency.values["tenant-a"] = 5100.0
    assert outcomes(tenant_a) == [Outcome.FIRED]
    [alert] = alerts_of(tenant_a)
    assert alert.unit == rule.unit == latency.unit


def test_rule_whose_unit_no_longer_matches_its_metric_is_refused(
    tenant_a, make_probe, make_rule, caplog
):
    """A metric changed to seconds must never be compared with a threshold in milliseconds."""
    from alerts.registry import unregister

    latency = make_probe("test.latency", Unit.MILLISECONDS)
    make_rule(tenant_a, metric="test.latency", threshold=5000)
    unregister("test.latency")
    seconds = make_probe("test.latency", Unit.SECONDS)
    seconds.values["tenant-a"] = 9.0  # 9 s is over 5 s, but 9 < 5000 would say "fine"

    with caplog.at_level(logging.ERROR, logger="alerts.evaluation"):
        assert outcomes(tenant_a) == [Outcome.SKIPPED]
    assert "threshold is in ms but metric test.latency is in s" in caplog.text
    assert latency.windows == [] and seconds.windows == []


def test_llm_latency_default_rule_uses_milliseconds(tenant_a):
    """The real LLM latency metric (p95 of latency_ms) against the default 5000 ms rule."""
    from llm.choices import Outcome as CallOutcome
    from llm.choices import Purpose
    from llm.models import LLMCall

    alert_rules_create_defaults(tenant=tenant_a)
    with tenant_scope(tenant_a):
        rule = AlertRule.objects.get(metric="llm.latency_p95")
        AlertRule.objects.exclude(pk=rule.pk).update(enabled=False)
        for latency in (5200, 5300, 5400):
            LLMCall.objects.create(
                purpose=Purpose.values[0], latency_ms=latency, outcome=CallOutcome.OK
            )
    assert (rule.unit, rule.threshold) == ("ms", 5000)
    assert outcomes(tenant_a) == [Outcome.FIRED]
    [alert] = alerts_of(tenant_a)
    assert alert.value >= 5200 and alert.unit == "ms"


# Tenants -------------------------------------------------------------------------------------


def test_each_tenant_is_evaluated_in_its_own_scope(tenant_a, tenant_b, probe, make_rule):
    make_rule(tenant_a)
    make_rule(tenant_b)
    probe.values["tenant-a"] = 6000.0
    probe.values["tenant-b"] = 10.0

    report = alerts_evaluate_all()

    assert [r.outcome for r in report["tenant-a"]] == [Outcome.FIRED]
    assert [r.outcome for r in report["tenant-b"]] == [Outcome.OK]
    assert len(alerts_of(tenant_a)) == 1
    assert alerts_of(tenant_b) == []


def test_inactive_tenants_are_not_evaluated(tenant_a, tenant_b, probe, make_rule):
    make_rule(tenant_b)
    tenant_b.is_active = False
    tenant_b.save()
    assert "tenant-b" not in alerts_evaluate_all()


def test_failing_notifier_does_not_undo_the_alert(tenant_a, probe, make_rule, caplog):
    from helpdesk.config import get_config

    get_config().set(
        "alerts.notifiers", ["alerts.tests.test_evaluation.BrokenNotifier", "no.such.Notifier"]
    )
    make_rule(tenant_a)
    probe.values["tenant-a"] = 6000.0
    with caplog.at_level(logging.ERROR, logger="alerts.notifiers"):
        assert outcomes(tenant_a) == [Outcome.FIRED]
    assert "Notifier broken failed" in caplog.text
    assert "no.such.Notifier" in caplog.text
    assert len(alerts_of(tenant_a)) == 1


class BrokenNotifier:
    channel = "broken"

    def notify(self, *, alert, event, message) -> None:
        raise ConnectionError("feishu unreachable")
