"""Rule and alert services: validation, units, defaults, state changes, tenant isolation."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alerts.models import Alert, AlertNotification, AlertRule
from alerts.registry import Unit
from alerts.services import (
    DEFAULT_RULES,
    alert_acknowledge,
    alert_create_manual,
    alert_resolve,
    alert_rule_create,
    alert_rule_delete,
    alert_rule_update,
    alert_rules_create_defaults,
)
from helpdesk.tenancy import TenantScopeError, tenant_scope

pytestmark = pytest.mark.django_db


def test_rule_takes_its_unit_from_the_metric(scope_a, make_probe):
    make_probe("test.ratio", Unit.RATIO)
    rule = alert_rule_create(name="比例", metric="test.ratio", comparison="lt", threshold=0.6)
    assert rule.unit == "ratio"
    assert rule.tenant_id == scope_a.pk


@pytest.mark.parametrize(
    ("unit", "threshold", "field"),
    [
        (Unit.RATIO, 60, "threshold"),  # 60 is not a ratio: 0.6 is
        (Unit.RATIO, -0.1, "threshold"),
        (Unit.MILLISECONDS, float("inf"), "threshold"),
        (Unit.COUNT, "many", "threshold"),
    ],
)
def test_threshold_must_fit_the_unit(scope_a, make_probe, unit, threshold, field):
    make_probe("test.m", unit)
    with pytest.raises(ValidationError) as info:
        alert_rule_create(name="x", metric="test.m", comparison="gt", threshold=threshold)
    assert field in info.value.message_dict
    assert not AlertRule.objects.exists()


def test_bad_rule_fields(scope_a, probe):
    with pytest.raises(ValidationError) as info:
        alert_rule_create(name="", metric="test.probe", comparison="~", threshold=1, level="panic")
    assert {"name", "comparison", "level"} <= set(info.value.message_dict)
    with pytest.raises(ValidationError) as info:
        alert_rule_create(name="x", metric="no.such", comparison="gt", threshold=1)
    assert "metric" in info.value.message_dict
    assert not AlertRule.objects.exists()


def test_rule_names_are_unique_per_tenant(tenant_a, tenant_b, probe, make_rule):
    make_rule(tenant_a, name="同名")
    with pytest.raises(ValidationError) as info:
        make_rule(tenant_a, name="同名")
    assert "name" in info.value.message_dict
    make_rule(tenant_b, name="同名")  # another tenant may use it


def test_update_rechecks_the_threshold(scope_a, make_probe):
    make_probe("test.ratio", Unit.RATIO)
    rule = alert_rule_create(name="比例", metric="test.ratio", comparison="lt", threshold=0.6)
    with pytest.raises(ValidationError):
        alert_rule_update(rule=rule, threshold=5)
    rule.refresh_from_db()
    assert rule.threshold == 0.6
    alert_rule_update(rule=rule, threshold=0.5, enabled=False)
    rule.refresh_from_db()
    assert (rule.threshold, rule.enabled) == (0.5, False)


def test_rule_of_another_tenant_cannot_be_updated(tenant_a, tenant_b, probe, make_rule):
    rule = make_rule(tenant_a)
    with tenant_scope(tenant_b), pytest.raises(AlertRule.DoesNotExist):
        alert_rule_update(rule=rule, threshold=1)


def test_delete_rule_resolves_its_open_alert_and_keeps_it(scope_a, probe, make_rule):
    rule = make_rule(scope_a)
    alert = Alert.objects.create(
        rule=rule, source="rule", level="warning", title="t", message="m", metric="test.probe"
    )
    alert_rule_delete(rule=rule)
    alert.refresh_from_db()
    assert alert.rule_id is None
    assert alert.status == Alert.Status.RESOLVED


def test_one_open_alert_per_rule_is_a_database_constraint(scope_a, probe, make_rule):
    rule = make_rule(scope_a)
    fields = dict(rule=rule, source="rule", level="warning", title="t", metric="test.probe")
    Alert.objects.create(**fields, message="1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(**fields, message="2")
    Alert.objects.create(**fields, message="3", status=Alert.Status.RESOLVED)


# Defaults ------------------------------------------------------------------------------------


def test_default_rules_are_idempotent_with_correct_units(tenant_a, tenant_b):
    created = alert_rules_create_defaults(tenant=tenant_a)
    again = alert_rules_create_defaults(tenant=tenant_a)
    assert len(created) == len(DEFAULT_RULES) == 9
    assert again == []
    with tenant_scope(tenant_a):
        rules = {(r.metric, r.threshold): r for r in AlertRule.objects.all()}
    with tenant_scope(tenant_b):
        assert not AlertRule.objects.exists()
    expected = [
        ("workorders.avg_satisfaction", "lt", 3.5, "score"),
        ("dialogue.knowledge_hit_rate", "lt", 0.6, "ratio"),
        ("llm.error_rate", "gt", 0.1, "ratio"),
        ("llm.latency_p95", "gt", 5000, "ms"),
        ("llm.cost_per_day", "gt", 100, "cny"),
        ("llm.budget_used", "gte", 0.8, "ratio"),
        ("llm.budget_used", "gte", 1.0, "ratio"),
        ("workorders.overdue", "gt", 0, "count"),
        ("workorders.backlog", "gt", 50, "count"),
    ]
    assert {
        (metric, threshold): (comparison, threshold, unit)
        for metric, comparison, threshold, unit in expected
    } == {key: (r.comparison, r.threshold, r.unit) for key, r in rules.items()}
    assert rules[("workorders.backlog", 50)].name == "工单积压"


def test_default_rules_match_the_registered_metrics_units():
    from alerts.registry import _REGISTRY

    for default in DEFAULT_RULES:
        if default.metric in _REGISTRY:
            assert _REGISTRY[default.metric].unit == default.unit, default.metric


# Alerts --------------------------------------------------------------------------------------


def test_manual_alert_and_its_lifecycle(scope_a, agent_a, admin_a):
    alert = alert_create_manual(title="系统维护", message="今晚 22:00", level="info", actor=agent_a)
    assert (alert.source, alert.status, alert.created_by) == ("manual", "active", agent_a)
    assert AlertNotification.objects.filter(alert=alert, event="opened").count() == 1

    alert = alert_acknowledge(alert=alert, actor=agent_a)
    assert alert.status == "acknowledged" and alert.acknowledged_by == agent_a
    with pytest.raises(ValidationError):
        alert_acknowledge(alert=alert, actor=agent_a)

    alert = alert_resolve(alert=alert, actor=admin_a, note="已完成")
    assert (alert.status, alert.resolved_by, alert.resolution_note) == (
        "resolved",
        admin_a,
        "已完成",
    )
    with pytest.raises(ValidationError):
        alert_resolve(alert=alert, actor=admin_a)
    assert AlertNotification.objects.filter(alert=alert, event="resolved").count() == 1


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"title": "", "message": "", "level": "info"}, "title"),
        ({"title": "x" * 201, "message": "", "level": "info"}, "title"),
        ({"title": "x", "message": "y" * 4001, "level": "info"}, "message"),
        ({"title": "x", "message": "", "level": "panic"}, "level"),
        ({"title": 5, "message": "", "level": "info"}, "title"),
    ],
)
def test_manual_alert_bad_input(scope_a, agent_a, fields, bad):
    with pytest.raises(ValidationError) as info:
        alert_create_manual(actor=agent_a, **fields)
    assert bad in info.value.message_dict
    assert not Alert.objects.exists()


def test_resolve_note_is_limited(scope_a, agent_a):
    alert = alert_create_manual(title="x", message="", level="info", actor=agent_a)
    with pytest.raises(ValidationError):
        alert_resolve(alert=alert, actor=agent_a, note="x" * 2001)
    alert.refresh_from_db()
    assert alert.status == "active"


def test_no_scope_no_alerts(tenant_a):
    with pytest.raises(TenantScopeError):
        list(Alert.objects.all())
