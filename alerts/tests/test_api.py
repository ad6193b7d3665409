"""/api/v1/alerts/ and /api/v1/alert-rules/: two tenants, roles, bad input, the schema."""

import pytest

from alerts.models import Alert, AlertRule
from alerts.registry import Unit
from alerts.services import alert_create_manual
from conftest import api_client_for
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema

pytestmark = pytest.mark.django_db

ALERTS = "/api/v1/alerts/"
RULES = "/api/v1/alert-rules/"


def manual(tenant, **fields) -> Alert:
    fields.setdefault("title", "人工告警")
    fields.setdefault("message", "说明")
    fields.setdefault("level", "warning")
    with tenant_scope(tenant):
        return alert_create_manual(actor=None, **fields)


def assert_error(response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message", "fields"}
    if field:
        assert field in body["error"]["fields"], body


# Alerts --------------------------------------------------------------------------------------


def test_list_filters_and_isolation(client_a, client_b, tenant_a, tenant_b):
    manual(tenant_a, title="甲一", level="critical")
    resolved = manual(tenant_a, title="甲二", level="info")
    with tenant_scope(tenant_a):
        resolved.status = Alert.Status.RESOLVED
        resolved.save()
    manual(tenant_b, title="乙一")

    response = client_a.get(ALERTS)
    assert response.status_code == 200
    assert_matches_schema(response, "get", ALERTS)
    body = response.json()
    assert {a["title"] for a in body["data"]} == {"甲一", "甲二"}
    assert body["meta"]["pagination"]["count"] == 2

    assert [a["title"] for a in client_a.get(ALERTS, {"open": "true"}).json()["data"]] == ["甲一"]
    assert [a["title"] for a in client_a.get(ALERTS, {"level": "info"}).json()["data"]] == ["甲二"]
    several = client_a.get(f"{ALERTS}?status=active&status=resolved").json()["data"]
    assert len(several) == 2
    assert [a["title"] for a in client_a.get(ALERTS, {"q": "一"}).json()["data"]] == ["甲一"]
    assert [a["title"] for a in client_b.get(ALERTS).json()["data"]] == ["乙一"]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "exploded"},
        {"level": "loud"},
        {"open": "perhaps"},
        {"seen_after": "yesterday"},
        {"ordering": "tenant"},
        {"rule": "x"},
        {"rule": str(2**63)},
    ],
)
def test_list_bad_filters_are_400(client_a, query):
    response = client_a.get(ALERTS, query)
    assert_error(response, 400, next(iter(query)))
    assert_matches_schema(response, "get", ALERTS)


def test_retrieve_and_foreign_tenant_404(client_a, client_b, tenant_a):
    alert = manual(tenant_a)
    response = client_a.get(f"{ALERTS}{alert.pk}/")
    assert response.status_code == 200
    assert_matches_schema(response, "get", "/api/v1/alerts/{id}/")
    assert response.json()["data"]["status"] == "active"

    response = client_b.get(f"{ALERTS}{alert.pk}/")
    assert_error(response, 404)
    assert_matches_schema(response, "get", "/api/v1/alerts/{id}/")
    assert_error(client_b.post(f"{ALERTS}{alert.pk}/acknowledge/"), 404)
    assert_error(client_b.post(f"{ALERTS}{alert.pk}/resolve/", {"note": "x"}), 404)
    with tenant_scope(tenant_a):
        alert.refresh_from_db()
    assert alert.status == "active"


def test_value_and_threshold_are_shown_in_the_unit(client_a, tenant_a, probe, make_rule):
    from alerts.evaluation import alerts_evaluate_tenant

    make_rule(tenant_a, threshold=5000)
    probe.values["tenant-a"] = 5200.0
    alerts_evaluate_tenant(tenant=tenant_a)
    manual(tenant_a, title="人工")

    rows = {a["title"]: a for a in client_a.get(ALERTS).json()["data"]}
    fired, by_hand = rows["探针过高"], rows["人工"]
    assert (fired["value_display"], fired["threshold_display"]) == ("5200 毫秒", "5000 毫秒")
    assert (by_hand["value_display"], by_hand["threshold_display"]) == (None, None)


def test_statistics(client_a, client_b, tenant_a, tenant_b):
    manual(tenant_a, level="critical")
    manual(tenant_a, level="warning")
    done = manual(tenant_a, level="warning")
    with tenant_scope(tenant_a):
        done.status = Alert.Status.RESOLVED
        done.save()
    manual(tenant_b, level="info")

    response = client_a.get(f"{ALERTS}statistics/")
    assert response.status_code == 200
    assert_matches_schema(response, "get", "/api/v1/alerts/statistics/")
    data = response.json()["data"]
    assert data["total"] == 3
    assert data["by_status"] == {"active": 2, "acknowledged": 0, "resolved": 1}
    assert data["by_level"] == {"info": 0, "warning": 2, "error": 0, "critical": 1}
    assert data["open_by_level"] == {"info": 0, "warning": 1, "error": 0, "critical": 1}
    assert client_a.get(f"{ALERTS}statistics/", {"level": "critical"}).json()["data"]["total"] == 1
    assert client_b.get(f"{ALERTS}statistics/").json()["data"]["total"] == 1


def test_acknowledge_and_resolve(client_a, agent_a, tenant_a):
    alert = manual(tenant_a)
    url = f"{ALERTS}{alert.pk}/"
    response = client_a.post(f"{url}acknowledge/")
    assert response.status_code == 200
    assert_matches_schema(response, "post", "/api/v1/alerts/{id}/acknowledge/")
    assert response.json()["data"]["acknowledged_by"] == agent_a.pk

    response = client_a.post(f"{url}acknowledge/")
    assert_error(response, 400, "status")
    assert_matches_schema(response, "post", "/api/v1/alerts/{id}/acknowledge/")

    response = client_a.post(f"{url}resolve/", {"note": "已重启服务"})
    assert response.status_code == 200
    assert_matches_schema(response, "post", "/api/v1/alerts/{id}/resolve/")
    data = response.json()["data"]
    assert (data["status"], data["resolution_note"], data["resolved_by"]) == (
        "resolved",
        "已重启服务",
        agent_a.pk,
    )
    assert_error(client_a.post(f"{url}resolve/", {"note": ""}), 400, "status")


def test_resolve_bad_note_changes_nothing(client_a, tenant_a):
    alert = manual(tenant_a)
    for payload in ({"note": "x" * 2001}, {"note": ["list"]}):
        response = client_a.post(f"{ALERTS}{alert.pk}/resolve/", payload, format="json")
        assert_error(response, 400, "note")
    assert_matches_schema(response, "post", "/api/v1/alerts/{id}/resolve/")
    with tenant_scope(tenant_a):
        alert.refresh_from_db()
    assert alert.status == "active"


def test_manual_create(client_a, tenant_a, tenant_b, agent_a):
    response = client_a.post(
        ALERTS, {"title": "门店系统故障", "message": "上海门店", "level": "error"}
    )
    assert response.status_code == 201, response.content
    assert_matches_schema(response, "post", ALERTS)
    data = response.json()["data"]
    assert (data["source"], data["level"], data["created_by"]) == ("manual", "error", agent_a.pk)
    with tenant_scope(tenant_b):
        assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"message": "no title"}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "level": "apocalyptic"}, "level"),
        ({"title": "x", "message": "y" * 4001}, "message"),
        ({"title": ["not", "text"]}, "title"),
    ],
)
def test_manual_create_bad_input(client_a, tenant_a, payload, field):
    response = client_a.post(ALERTS, payload, format="json")
    assert_error(response, 400, field)
    assert_matches_schema(response, "post", ALERTS)
    with tenant_scope(tenant_a):
        assert not Alert.objects.exists()


def test_viewer_reads_but_cannot_act(viewer_a, tenant_a):
    alert = manual(tenant_a)
    client = api_client_for(viewer_a)
    assert client.get(ALERTS).status_code == 200
    assert_error(client.post(f"{ALERTS}{alert.pk}/acknowledge/"), 403)
    assert_error(client.post(ALERTS, {"title": "x"}), 403)


def test_anonymous_is_401():
    from rest_framework.test import APIClient

    assert_error(APIClient().get(ALERTS), 401)


# Rules ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client_a(admin_a):
    return api_client_for(admin_a)


def rule_payload(**fields):
    payload = {
        "name": "延迟过高",
        "metric": "test.probe",
        "comparison": "gt",
        "threshold": 5000,
        "window_minutes": 15,
        "level": "error",
    }
    payload.update(fields)
    return payload


def test_rule_crud_by_tenant_admin(admin_client_a, admin_b, tenant_a, probe):
    client_b = api_client_for(admin_b)
    response = admin_client_a.post(RULES, rule_payload())
    assert response.status_code == 201, response.content
    assert_matches_schema(response, "post", RULES)
    data = response.json()["data"]
    assert (data["unit"], data["threshold"], data["threshold_display"]) == ("ms", 5000, "5000 毫秒")
    assert data["cooldown_minutes"] == 30 and data["auto_resolve"] is True
    url = f"{RULES}{data['id']}/"

    response = admin_client_a.patch(url, {"threshold": 8000, "enabled": False})
    assert response.status_code == 200, response.content
    assert_matches_schema(response, "patch", "/api/v1/alert-rules/{id}/")
    assert response.json()["data"]["threshold"] == 8000

    response = admin_client_a.put(url, rule_payload(name="改名", threshold=6000))
    assert response.status_code == 200, response.content
    assert response.json()["data"]["name"] == "改名"

    response = admin_client_a.get(RULES)
    assert_matches_schema(response, "get", RULES)
    assert [r["name"] for r in response.json()["data"]] == ["改名"]

    assert_error(client_b.get(url), 404)
    assert_error(client_b.put(url, rule_payload()), 404)
    assert_error(client_b.delete(url), 404)

    response = admin_client_a.delete(url)
    assert response.status_code == 204
    with tenant_scope(tenant_a):
        assert not AlertRule.objects.exists()


def test_rule_writes_need_tenant_admin(client_a, viewer_a, tenant_a, probe, make_rule):
    rule = make_rule(tenant_a)
    assert client_a.get(RULES).status_code == 200
    assert api_client_for(viewer_a).get(f"{RULES}{rule.pk}/").status_code == 200
    assert_error(client_a.post(RULES, rule_payload(name="新")), 403)
    assert_error(client_a.patch(f"{RULES}{rule.pk}/", {"threshold": 1}), 403)
    assert_error(client_a.delete(f"{RULES}{rule.pk}/"), 403)


def test_rule_of_another_tenant_cannot_be_changed(admin_b, tenant_a, probe, make_rule):
    rule = make_rule(tenant_a)
    client = api_client_for(admin_b)
    assert_error(client.patch(f"{RULES}{rule.pk}/", {"threshold": 1}), 404)
    rule.refresh_from_db()
    assert rule.threshold == 5000


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"metric": "no.such.metric"}, "metric"),
        ({"comparison": "=="}, "comparison"),
        ({"threshold": "high"}, "threshold"),
        ({"threshold": -5}, "threshold"),
        ({"window_minutes": 0}, "window_minutes"),
        ({"window_minutes": 10**9}, "window_minutes"),
        ({"level": "doom"}, "level"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"cooldown_minutes": -1}, "cooldown_minutes"),
        ({"enabled": "sometimes"}, "enabled"),
    ],
)
def test_rule_bad_input(admin_client_a, tenant_a, probe, fields, bad):
    response = admin_client_a.post(RULES, rule_payload(**fields), format="json")
    assert_error(response, 400, bad)
    assert_matches_schema(response, "post", RULES)
    with tenant_scope(tenant_a):
        assert not AlertRule.objects.exists()


def test_ratio_threshold_must_be_a_ratio(admin_client_a, tenant_a, make_probe):
    make_probe("test.hit_rate", Unit.RATIO)
    response = admin_client_a.post(
        RULES, rule_payload(metric="test.hit_rate", comparison="lt", threshold=60)
    )
    assert_error(response, 400, "threshold")
    assert "0.6" in response.json()["error"]["fields"]["threshold"][0]
    response = admin_client_a.post(
        RULES, rule_payload(metric="test.hit_rate", comparison="lt", threshold=0.6)
    )
    assert response.status_code == 201
    assert response.json()["data"]["threshold_display"] == "60.0%"


def test_duplicate_rule_name_is_400(admin_client_a, tenant_a, probe, make_rule):
    make_rule(tenant_a, name="延迟过高")
    response = admin_client_a.post(RULES, rule_payload())
    assert_error(response, 400, "name")
    with tenant_scope(tenant_a):
        assert AlertRule.objects.count() == 1


def test_metrics_catalogue(client_a, probe):
    response = client_a.get(f"{RULES}metrics/")
    assert response.status_code == 200
    assert_matches_schema(response, "get", "/api/v1/alert-rules/metrics/")
    metrics = {m["name"]: m for m in response.json()["data"]}
    assert metrics["test.probe"]["unit"] == "ms"
    assert metrics["workorders.backlog"]["unit"] == "count"
    assert metrics["workorders.avg_resolution_hours"]["unit"] == "h"


def test_in_app_notifications(client_a, client_b, tenant_a, tenant_b):
    alert = manual(tenant_a, title="甲告警")
    manual(tenant_b, title="乙告警")
    client_a.post(f"{ALERTS}{alert.pk}/resolve/", {"note": "好了"})
    response = client_a.get(f"{ALERTS}notifications/")
    assert response.status_code == 200
    assert_matches_schema(response, "get", "/api/v1/alerts/notifications/")
    rows = response.json()["data"]
    assert [(r["alert"], r["event"]) for r in rows] == [
        (alert.pk, "resolved"),
        (alert.pk, "opened"),
    ]
    assert rows[0]["message"] == "好了"
    assert len(client_b.get(f"{ALERTS}notifications/").json()["data"]) == 1


def test_alert_list_query_count_is_flat(client_a, tenant_a, django_assert_max_num_queries):
    manual(tenant_a)
    client_a.get(ALERTS)
    with django_assert_max_num_queries(10) as few:
        client_a.get(ALERTS)
    for i in range(15):
        manual(tenant_a, title=f"更多{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client_a.get(ALERTS)
    assert len(response.json()["data"]) == 16
