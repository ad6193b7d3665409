"""Admin pages for rules and alerts: roles, tenants, actions, units, bad input."""

import pytest
from django.test import Client
from django.urls import reverse

from alerts.models import Alert, AlertRule
from alerts.registry import Unit
from alerts.services import alert_create_manual
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

RULES = reverse("admin:alerts_alertrule_changelist")
RULE_ADD = reverse("admin:alerts_alertrule_add")
ALERTS = reverse("admin:alerts_alert_changelist")
ALERT_ADD = reverse("admin:alerts_alert_add")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def manual(tenant, title="人工告警") -> Alert:
    with tenant_scope(tenant):
        return alert_create_manual(title=title, message="说明", level="warning", actor=None)


def rule_form(**fields):
    data = {
        "name": "延迟过高",
        "description": "",
        "metric": "test.probe",
        "comparison": "gt",
        "threshold": "5000",
        "window_minutes": "15",
        "level": "error",
        "cooldown_minutes": "30",
        "enabled": "on",
        "auto_resolve": "on",
    }
    data.update(fields)
    return data


def test_rule_list_shows_units_and_only_own_tenant(admin_a, tenant_b, probe, make_rule):
    make_rule(admin_a.tenant, name="甲规则", threshold=5000)
    make_rule(tenant_b, name="乙规则")
    response = client_for(admin_a).get(RULES)
    assert response.status_code == 200
    content = response.content.decode()
    assert "甲规则" in content and "乙规则" not in content
    assert "5000 毫秒" in content


def test_rule_add_through_the_service(admin_a, probe):
    client = client_for(admin_a)
    form = client.get(RULE_ADD).content.decode()
    assert "毫秒" in form  # the metric choice names its unit
    response = client.post(RULE_ADD, rule_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(admin_a.tenant):
        rule = AlertRule.objects.get()
    assert (rule.unit, rule.threshold) == ("ms", 5000)


def test_rule_add_with_a_bad_threshold_shows_the_error(admin_a, make_probe):
    make_probe("test.ratio", Unit.RATIO)
    response = client_for(admin_a).post(
        RULE_ADD, rule_form(metric="test.ratio", comparison="lt", threshold="60")
    )
    assert response.status_code == 200
    assert "0.6" in response.content.decode()
    with tenant_scope(admin_a.tenant):
        assert not AlertRule.objects.exists()


def test_rule_duplicate_name_is_a_form_error(admin_a, probe, make_rule):
    make_rule(admin_a.tenant, name="延迟过高")
    response = client_for(admin_a).post(RULE_ADD, rule_form())
    assert response.status_code == 200
    with tenant_scope(admin_a.tenant):
        assert AlertRule.objects.count() == 1


def test_rule_change_through_the_service(admin_a, probe, make_rule):
    rule = make_rule(admin_a.tenant, name="延迟过高")
    change = reverse("admin:alerts_alertrule_change", args=[rule.pk])
    response = client_for(admin_a).post(change, rule_form(threshold="8000", enabled=""))
    assert response.status_code == 302, response.content.decode()[:2000]
    rule.refresh_from_db()
    assert (rule.threshold, rule.enabled, rule.unit, rule.level) == (8000, False, "ms", "error")


def test_agents_read_rules_but_do_not_change_them(agent_a, probe, make_rule):
    rule = make_rule(agent_a.tenant)
    client = client_for(agent_a)
    assert client.get(RULES).status_code == 200
    assert client.get(RULE_ADD).status_code == 403
    change = reverse("admin:alerts_alertrule_change", args=[rule.pk])
    assert client.post(change, rule_form(threshold="1")).status_code == 403
    rule.refresh_from_db()
    assert rule.threshold == 5000


def test_foreign_rule_change_page_is_404(admin_b, tenant_a, probe, make_rule):
    rule = make_rule(tenant_a)
    change = reverse("admin:alerts_alertrule_change", args=[rule.pk])
    response = client_for(admin_b).get(change)
    assert response.status_code in (302, 404)
    assert "延迟" not in response.content.decode()


def test_rule_actions_disable_and_evaluate(admin_a, probe, make_rule):
    rule = make_rule(admin_a.tenant)
    probe.values["tenant-a"] = 6000.0
    client = client_for(admin_a)
    client.post(RULES, {"action": "evaluate_now", "_selected_action": [rule.pk]})
    with tenant_scope(admin_a.tenant):
        assert Alert.objects.filter(rule=rule).count() == 1
    client.post(RULES, {"action": "disable", "_selected_action": [rule.pk]})
    rule.refresh_from_db()
    assert rule.enabled is False


def test_alert_list_and_change_page(agent_a, tenant_b):
    alert = manual(agent_a.tenant, "甲告警")
    manual(tenant_b, "乙告警")
    client = client_for(agent_a)
    content = client.get(ALERTS).content.decode()
    assert "甲告警" in content and "乙告警" not in content
    page = client.get(reverse("admin:alerts_alert_change", args=[alert.pk]))
    assert page.status_code == 200


def test_alert_list_shows_value_and_threshold_in_the_unit(agent_a, probe, make_rule):
    from alerts.evaluation import alerts_evaluate_tenant

    make_rule(agent_a.tenant, threshold=5000)
    probe.values["tenant-a"] = 5200.0
    alerts_evaluate_tenant(tenant=agent_a.tenant)
    content = client_for(agent_a).get(ALERTS).content.decode()
    assert "5200 毫秒" in content and "&gt; 5000 毫秒" in content


def test_alert_list_query_count_does_not_grow_per_row(
    agent_a, django_assert_max_num_queries, probe, make_rule
):
    for i in range(3):
        manual(agent_a.tenant, f"告警{i}")
    client = client_for(agent_a)
    client.get(ALERTS)
    with django_assert_max_num_queries(12) as few:
        client.get(ALERTS)
    for i in range(20):
        manual(agent_a.tenant, f"更多{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(ALERTS)


def test_manual_alert_add(agent_a):
    response = client_for(agent_a).post(
        ALERT_ADD, {"title": "呼叫中心线路故障", "message": "电信线路中断", "level": "critical"}
    )
    assert response.status_code == 302
    with tenant_scope(agent_a.tenant):
        alert = Alert.objects.get()
        assert alert.notifications.count() == 1
    assert (alert.source, alert.level, alert.created_by) == ("manual", "critical", agent_a)


def test_acknowledge_and_resolve_actions(agent_a):
    first = manual(agent_a.tenant, "一")
    second = manual(agent_a.tenant, "二")
    client = client_for(agent_a)
    client.post(ALERTS, {"action": "acknowledge", "_selected_action": [first.pk]})

    page = client.post(ALERTS, {"action": "resolve", "_selected_action": [first.pk, second.pk]})
    assert page.status_code == 200 and "一" in page.content.decode()
    response = client.post(
        ALERTS,
        {
            "action": "resolve",
            "apply": "1",
            "note": "线路已恢复",
            "_selected_action": [first.pk, second.pk],
        },
    )
    assert response.status_code == 302
    with tenant_scope(agent_a.tenant):
        rows = list(Alert.objects.order_by("id"))
    assert [a.status for a in rows] == ["resolved", "resolved"]
    assert rows[0].acknowledged_by == agent_a
    assert {a.resolution_note for a in rows} == {"线路已恢复"}


def test_viewer_cannot_act(viewer_a):
    alert = manual(viewer_a.tenant)
    client = client_for(viewer_a)
    assert client.get(ALERTS).status_code == 200
    client.post(ALERTS, {"action": "acknowledge", "_selected_action": [alert.pk]})
    with tenant_scope(viewer_a.tenant):
        alert.refresh_from_db()
    assert alert.status == "active"


def test_superuser_sees_all_tenants_and_acts_in_each_scope(superuser, tenant_a, tenant_b):
    a = manual(tenant_a, "甲告警")
    b = manual(tenant_b, "乙告警")
    client = client_for(superuser)
    content = client.get(ALERTS).content.decode()
    assert "甲告警" in content and "乙告警" in content
    client.post(ALERTS, {"action": "acknowledge", "_selected_action": [a.pk, b.pk]})
    assert {x.status for x in Alert.all_tenants.all()} == {"acknowledged"}
