"""The work-order API with two tenants, three roles and bad input."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import api_client_for
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.services import workorder_comment, workorder_transition

LIST = "/api/v1/workorders/"
DETAIL = "/api/v1/workorders/{id}/"
pytestmark = pytest.mark.django_db


def url(template: str, wo: WorkOrder) -> str:
    return template.format(id=wo.pk)


def check(response, method: str, path: str, status: int) -> dict:
    assert response.status_code == status, response.content
    assert_matches_schema(response, method, path)
    return response.json() if response.content else {}


def counts(tenant) -> tuple[int, int]:
    with tenant_scope(tenant):
        return WorkOrder.objects.count(), WorkOrderEvent.objects.count()


@pytest.fixture
def two_tenants(make_workorder, tenant_a, tenant_b, agent_a):
    a1 = make_workorder(tenant_a, title="刹车异响", priority="high", category="底盘")
    a2 = make_workorder(
        tenant_a, title="OTA 失败", description="升级包下载中断", assignee=agent_a, module="座舱"
    )
    b1 = make_workorder(tenant_b, title="乙的工单")
    return {"a1": a1, "a2": a2, "b1": b1}


class TestList:
    def test_list_is_scoped_paginated_and_documented(self, client_a, two_tenants):
        body = check(client_a.get(LIST, {"page_size": 1}), "get", LIST, 200)
        assert body["meta"]["pagination"]["count"] == 2
        assert body["data"][0]["number"] == two_tenants["a2"].number
        assert body["data"][0]["assignee"]["username"] == "agent-a"
        assert "timeline" not in body["data"][0]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"priority": "high"}, ["a1"]),
            ({"status": "open,pending"}, ["a2", "a1"]),
            ({"category": "底盘"}, ["a1"]),
            ({"module": "座舱"}, ["a2"]),
            ({"assignee": "me"}, ["a2"]),
            ({"assignee": "none"}, ["a1"]),
            ({"q": "下载"}, ["a2"]),
            ({"q": "刹车"}, ["a1"]),
            ({"source": "manual"}, ["a2", "a1"]),
            ({"overdue": "true"}, []),
            ({"overdue": "false"}, ["a2", "a1"]),
            ({"ordering": "created_at"}, ["a1", "a2"]),
            ({"ordering": "-priority"}, ["a1", "a2"]),
        ],
    )
    def test_filters(self, client_a, two_tenants, params, expected):
        body = client_a.get(LIST, params).json()
        assert [row["id"] for row in body["data"]] == [two_tenants[k].pk for k in expected]

    def test_filter_by_number_assignee_id_and_dates(self, client_a, two_tenants, agent_a):
        a1 = two_tenants["a1"]
        assert [r["id"] for r in client_a.get(LIST, {"q": a1.number}).json()["data"]] == [a1.pk]
        by_id = client_a.get(LIST, {"assignee": agent_a.pk}).json()["data"]
        assert [r["id"] for r in by_id] == [two_tenants["a2"].pk]
        today = timezone.localdate()
        assert len(client_a.get(LIST, {"created_after": today}).json()["data"]) == 2
        assert len(client_a.get(LIST, {"created_before": today}).json()["data"]) == 2
        yesterday = (today - timedelta(days=1)).isoformat()
        assert client_a.get(LIST, {"created_before": yesterday}).json()["data"] == []

    def test_overdue_filter_and_flag(self, client_a, two_tenants, tenant_a):
        with tenant_scope(tenant_a):
            WorkOrder.objects.filter(pk=two_tenants["a1"].pk).update(
                due_at=timezone.now() - timedelta(minutes=1)
            )
        rows = client_a.get(LIST, {"overdue": "true"}).json()["data"]
        assert [(r["id"], r["is_overdue"]) for r in rows] == [(two_tenants["a1"].pk, True)]

    @pytest.mark.parametrize(
        "params",
        [
            {"status": "bogus"},
            {"priority": "high,nope"},
            {"assignee": "someone"},
            {"overdue": "maybe"},
            {"created_after": "yesterday"},
            # Dates without a UTC year (0 or 10000) are bad input, not a 500.
            {"created_after": "0001-01-01"},
            {"created_before": "9999-12-31"},
            {"created_before": "9999-12-31T23:59:59-12:00"},
            {"ordering": "password"},
            {"q": "x" * 201},
        ],
    )
    def test_bad_filters_are_400(self, client_a, two_tenants, params):
        body = check(client_a.get(LIST, params), "get", LIST, 400)
        assert body["error"]["code"] == "invalid"
        assert set(body["error"]["fields"]) == set(params)

    def test_query_count_does_not_grow_with_rows(
        self, client_a, make_workorder, tenant_a, agent_a, django_assert_num_queries
    ):
        def fill(n):
            for i in range(n):
                make_workorder(tenant_a, title=f"t{i}", assignee=agent_a if i % 2 else None)

        fill(5)
        client_a.get(LIST)  # warm up: content types, config file
        # the token (joined with its user and tenant), the count, the page
        with django_assert_num_queries(3):
            assert len(client_a.get(LIST, {"page_size": 50}).json()["data"]) == 5
        fill(45)
        with django_assert_num_queries(3):
            assert len(client_a.get(LIST, {"page_size": 50}).json()["data"]) == 50


class TestRetrieveAndTenancy:
    def test_retrieve_has_timeline_and_allowed_transitions(self, client_a, two_tenants, agent_a):
        wo = two_tenants["a1"]
        with tenant_scope(wo.tenant):
            workorder_comment(work_order=wo, actor=agent_a, body="已电话联系")
        body = check(client_a.get(url(DETAIL, wo)), "get", DETAIL, 200)
        data = body["data"]
        assert data["allowed_transitions"] == ["in_progress", "pending", "resolved", "closed"]
        assert [e["kind"] for e in data["timeline"]] == ["created", "comment"]
        assert data["timeline"][1]["actor"]["username"] == "agent-a"

    def test_other_tenants_work_order_is_404_everywhere(
        self, client_a, admin_a, two_tenants, tenant_b
    ):
        b1 = two_tenants["b1"]
        before = counts(tenant_b)
        detail = url(DETAIL, b1)
        responses = [
            client_a.get(detail),
            client_a.patch(detail, {"title": "hacked"}),
            api_client_for(admin_a).delete(detail),
            client_a.post(f"{detail}transition/", {"status": "closed"}),
            client_a.post(f"{detail}assign/", {"assignee": None}),
            client_a.post(f"{detail}comments/", {"body": "x"}),
            client_a.get(f"{detail}comments/"),
            client_a.get(f"{detail}timeline/"),
        ]
        assert [r.status_code for r in responses] == [404] * len(responses)
        check(client_a.get(detail), "get", DETAIL, 404)
        assert counts(tenant_b) == before
        bulk = client_a.post(f"{LIST}bulk-transition/", {"ids": [b1.pk], "status": "closed"})
        assert bulk.status_code == 400
        assert counts(tenant_b) == before

    def test_anonymous_is_401(self, two_tenants):
        from rest_framework.test import APIClient

        check(APIClient().get(LIST), "get", LIST, 401)


class TestCreate:
    def test_create(self, client_a, agent_a, tenant_a):
        payload = {
            "title": "  充电中断  ",
            "description": "报错 E-203",
            "priority": "urgent",
            "assignee": agent_a.pk,
            "vin": "lsvau2180n2183565",
            "extra": {"渠道": "热线"},
        }
        body = check(client_a.post(LIST, payload), "post", LIST, 201)
        data = body["data"]
        assert data["title"] == "充电中断" and data["vin"] == "LSVAU2180N2183565"
        assert data["source"] == "api" and data["status"] == "open"
        assert data["number"].startswith("WO-")
        assert data["extra"] == {"渠道": "热线"}
        assert data["timeline"][0]["kind"] == "created"
        with tenant_scope(tenant_a):
            assert WorkOrder.objects.get(pk=data["id"]).tenant_id == tenant_a.pk

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({}, "title"),
            ({"title": ""}, "title"),
            ({"title": ["list"]}, "title"),
            ({"title": "x" * 201}, "title"),
            ({"title": "x", "description": "x" * 20001}, "description"),
            ({"title": "x", "priority": "asap"}, "priority"),
            ({"title": "x", "source": "fax"}, "source"),
            ({"title": "x", "assignee": "abc"}, "assignee"),
            ({"title": "x", "assignee": 999999}, "assignee"),
            ({"title": "x", "extra": [1, 2]}, "extra"),
            ({"title": "x", "extra": {"k": "v" * 30000}}, "extra"),
            ({"title": "x", "due_at": "next week"}, "due_at"),
        ],
    )
    def test_bad_input_is_400_and_writes_nothing(self, client_a, tenant_a, payload, field):
        body = check(client_a.post(LIST, payload, format="json"), "post", LIST, 400)
        assert field in body["error"]["fields"]
        assert counts(tenant_a) == (0, 0)

    def test_foreign_tenants_assignee_is_400(self, client_a, agent_b, tenant_a):
        body = check(client_a.post(LIST, {"title": "x", "assignee": agent_b.pk}), "post", LIST, 400)
        assert "assignee" in body["error"]["fields"]
        assert counts(tenant_a) == (0, 0)

    def test_viewer_assignee_is_400(self, client_a, viewer_a, tenant_a):
        response = client_a.post(LIST, {"title": "x", "assignee": viewer_a.pk})
        assert response.status_code == 400
        assert counts(tenant_a) == (0, 0)

    def test_viewer_reads_but_does_not_write(self, viewer_a, two_tenants):
        client = api_client_for(viewer_a)
        assert client.get(LIST).status_code == 200
        wo = two_tenants["a1"]
        check(client.post(LIST, {"title": "x"}), "post", LIST, 403)
        assert client.patch(url(DETAIL, wo), {"title": "y"}).status_code == 403
        assert client.post(f"{url(DETAIL, wo)}comments/", {"body": "y"}).status_code == 403


class TestChange:
    def test_patch_fields_status_and_assignee(self, client_a, two_tenants, agent_a):
        wo = two_tenants["a1"]
        payload = {
            "title": "新标题",
            "status": "in_progress",
            "assignee": agent_a.pk,
            "satisfaction": 5,
        }
        data = check(client_a.patch(url(DETAIL, wo), payload), "patch", DETAIL, 200)["data"]
        assert (data["title"], data["status"], data["satisfaction"]) == ("新标题", "in_progress", 5)
        kinds = [e["kind"] for e in data["timeline"]]
        assert kinds == ["created", "updated", "assigned", "status_changed"]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"status": "done"}, "status"),
            ({"satisfaction": 6}, "satisfaction"),
            ({"satisfaction": "great"}, "satisfaction"),
            ({"title": ""}, "title"),
            ({"resolution": "x" * 20001}, "resolution"),
        ],
    )
    def test_bad_patch_is_400_and_changes_nothing(self, client_a, two_tenants, payload, field):
        wo = two_tenants["a1"]
        body = check(client_a.patch(url(DETAIL, wo), payload), "patch", DETAIL, 400)
        assert field in body["error"]["fields"]
        with tenant_scope(wo.tenant):
            fresh = WorkOrder.objects.get(pk=wo.pk)
            assert (fresh.title, fresh.status, fresh.updated_at) == (
                wo.title,
                wo.status,
                wo.updated_at,
            )
            assert fresh.events.count() == 1

    def test_illegal_status_in_a_patch_writes_nothing(self, client_a, two_tenants, agent_a):
        wo = two_tenants["a1"]
        with tenant_scope(wo.tenant):
            workorder_transition(work_order=wo, status="closed", actor=agent_a)
        payload = {"title": "不该保存", "assignee": agent_a.pk, "status": "pending"}
        body = check(client_a.patch(url(DETAIL, wo), payload), "patch", DETAIL, 400)
        assert "status" in body["error"]["fields"]
        with tenant_scope(wo.tenant):
            fresh = WorkOrder.objects.get(pk=wo.pk)
            assert (fresh.title, fresh.assignee, fresh.status) == ("刹车异响", None, "closed")
            assert fresh.events.count() == 2

    def test_put_is_not_offered(self, client_a, two_tenants):
        assert client_a.put(url(DETAIL, two_tenants["a1"]), {"title": "x"}).status_code == 405

    def test_transition(self, client_a, two_tenants):
        wo = two_tenants["a1"]
        path = DETAIL + "transition/"
        ok = client_a.post(url(path, wo), {"status": "resolved", "note": "已更换刹车片"})
        data = check(ok, "post", path, 200)["data"]
        assert data["status"] == "resolved" and data["resolved_at"]
        assert data["timeline"][-1]["body"] == "已更换刹车片"
        bad = check(client_a.post(url(path, wo), {"status": "pending"}), "post", path, 400)
        message = bad["error"]["fields"]["status"][0]
        assert "(open)" in message and "(closed)" in message
        unknown = client_a.post(url(path, wo), {"status": "frozen"})
        assert unknown.status_code == 400
        too_long = client_a.post(url(path, wo), {"status": "closed", "note": "x" * 2001})
        assert too_long.status_code == 400
        with tenant_scope(wo.tenant):
            assert WorkOrder.objects.get(pk=wo.pk).status == "resolved"

    def test_assign_and_unassign(self, client_a, two_tenants, agent_a, agent_b, viewer_a):
        wo = two_tenants["a1"]
        path = DETAIL + "assign/"
        data = check(client_a.post(url(path, wo), {"assignee": agent_a.pk}), "post", path, 200)
        assert data["data"]["assignee"]["id"] == agent_a.pk
        for bad in (agent_b.pk, viewer_a.pk, "x"):
            assert client_a.post(url(path, wo), {"assignee": bad}).status_code == 400
        assert client_a.post(url(path, wo), {}, format="json").status_code == 400
        data = client_a.post(url(path, wo), {"assignee": None}, format="json").json()["data"]
        assert data["assignee"] is None

    def test_comments(self, client_a, two_tenants):
        wo = two_tenants["a1"]
        path = DETAIL + "comments/"
        made = client_a.post(url(path, wo), {"body": "请车主进站抓取日志", "internal": False})
        event = check(made, "post", path, 201)["data"]
        assert (event["kind"], event["internal"]) == ("comment", False)
        listed = check(client_a.get(url(path, wo)), "get", path, 200)
        assert [c["body"] for c in listed["data"]] == ["请车主进站抓取日志"]
        for bad in ({"body": ""}, {"body": "x" * 10001}, {"body": "x", "internal": "perhaps"}):
            check(client_a.post(url(path, wo), bad), "post", path, 400)
        timeline = check(
            client_a.get(url(DETAIL + "timeline/", wo)), "get", DETAIL + "timeline/", 200
        )
        assert [e["kind"] for e in timeline["data"]] == ["created", "comment"]


class TestDelete:
    def test_only_tenant_admins_delete(self, client_a, admin_a, two_tenants, tenant_a):
        wo = two_tenants["a1"]
        check(client_a.delete(url(DETAIL, wo)), "delete", DETAIL, 403)
        response = api_client_for(admin_a).delete(url(DETAIL, wo))
        check(response, "delete", DETAIL, 204)
        assert counts(tenant_a)[0] == 1

    def test_bulk_transition_and_delete(self, client_a, admin_a, two_tenants, agent_a):
        a1, a2 = two_tenants["a1"], two_tenants["a2"]
        path = LIST + "bulk-transition/"
        body = check(
            client_a.post(path, {"ids": [a1.pk, a2.pk], "status": "in_progress"}), "post", path, 200
        )
        assert body["data"] == {"count": 2}
        with tenant_scope(a1.tenant):
            workorder_transition(work_order=a1, status="closed", actor=agent_a)
        bad = check(
            client_a.post(path, {"ids": [a1.pk, a2.pk], "status": "resolved"}), "post", path, 400
        )
        assert a1.number in bad["error"]["fields"]["ids"][0]
        with tenant_scope(a1.tenant):
            assert WorkOrder.objects.get(pk=a2.pk).status == "in_progress"
        for payload in (
            {"ids": [], "status": "closed"},
            {"ids": ["x"], "status": "closed"},
            {"ids": [10**30], "status": "closed"},
        ):
            check(client_a.post(path, payload, format="json"), "post", path, 400)
        delete = LIST + "bulk-delete/"
        check(client_a.post(delete, {"ids": [a1.pk]}), "post", delete, 403)
        admin = api_client_for(admin_a)
        check(
            admin.post(delete, {"ids": [a1.pk, a2.pk, two_tenants["b1"].pk]}), "post", delete, 400
        )
        assert check(admin.post(delete, {"ids": [a1.pk, a2.pk]}), "post", delete, 200)["data"] == {
            "count": 2
        }


@pytest.mark.django_db
@pytest.mark.parametrize("due_at", ["0972-09-19T03:04:22Z", "9999-12-31T23:00:00Z"])
def test_a_due_date_the_api_cannot_show_is_refused(client_a, due_at):
    """Found by schemathesis: a year-972 due date came back as +08:05:43 (not RFC 3339)."""
    response = client_a.post("/api/v1/workorders/", {"title": "x", "due_at": due_at})
    assert response.status_code == 400
    assert "due_at" in response.json()["error"]["fields"]
