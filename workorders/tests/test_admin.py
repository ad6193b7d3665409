"""The work-order admin: scoped list, filters, pinned query count, form, timeline, actions."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from helpdesk.tenancy import tenant_scope
from workorders.models import WorkOrder

CHANGELIST = "/admin/workorders/workorder/"
pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def fetch(tenant, pk) -> WorkOrder:
    with tenant_scope(tenant):
        return WorkOrder.objects.get(pk=pk)


@pytest.fixture
def rows(make_workorder, tenant_a, tenant_b, agent_a):
    mine = make_workorder(tenant_a, title="我的工单", assignee=agent_a)
    late = make_workorder(tenant_a, title="超期工单")
    with tenant_scope(tenant_a):
        WorkOrder.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    foreign = make_workorder(tenant_b, title="乙租户工单")
    return {"mine": mine, "late": late, "foreign": foreign}


def test_changelist_is_scoped_and_filters(agent_a, rows):
    client = client_for(agent_a)
    page = client.get(CHANGELIST).content.decode()
    assert "我的工单" in page and "超期工单" in page and "乙租户工单" not in page
    assert "column-overdue_flag" in page
    for params, present, absent in [
        ({"overdue": "yes"}, "超期工单", "我的工单"),
        ({"overdue": "no"}, "我的工单", "超期工单"),
        ({"assigned": "me"}, "我的工单", "超期工单"),
        ({"assigned": "none"}, "超期工单", "我的工单"),
        ({"q": "超期"}, "超期工单", "我的工单"),
        ({"q": rows["mine"].number}, "我的工单", "超期工单"),
    ]:
        html = client.get(CHANGELIST, params).content.decode()
        assert present in html and absent not in html, params


@pytest.mark.parametrize("who", ["agent", "superuser"])
def test_changelist_query_count_is_constant(
    who, agent_a, superuser, make_workorder, tenant_a, tenant_b, django_assert_num_queries
):
    user = agent_a if who == "agent" else superuser
    # session, user, tenant, count, page; agents also load their permissions (2).
    expected = {"agent": 7, "superuser": 5}[who]

    def fill(n):
        for i in range(n):
            make_workorder(tenant_a, title=f"t{i}", assignee=agent_a if i % 2 else None)
            make_workorder(tenant_b, title=f"b{i}")

    fill(5)
    client = client_for(user)
    client.get(CHANGELIST)  # warm up caches (content types, config file)
    with django_assert_num_queries(expected):
        assert client.get(CHANGELIST).status_code == 200
    fill(45)
    with django_assert_num_queries(expected):
        assert client.get(CHANGELIST).status_code == 200


def test_change_form_shows_timeline_and_writes_through_services(agent_a, rows):
    wo = rows["late"]
    client = client_for(agent_a)
    url = f"{CHANGELIST}{wo.pk}/change/"
    page = client.get(url).content.decode()
    assert "timeline" in page.lower() or "时间线" in page
    form = {
        "title": "改过的标题",
        "description": "",
        "category": "",
        "priority": "urgent",
        "status": "in_progress",
        "assignee": agent_a.pk,
        "requester_name": "",
        "requester_contact": "",
        "requester_external_id": "",
        "vin": "",
        "module": "",
        "region": "",
        "due_at_0": "",
        "due_at_1": "",
        "resolution": "",
        "satisfaction": "",
        "extra": "{}",
        "new_comment": "已致电车主",
        "comment_is_reply": "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = fetch(wo.tenant, wo.pk)
    assert (fresh.title, fresh.priority, fresh.status, fresh.assignee) == (
        "改过的标题",
        "urgent",
        "in_progress",
        agent_a,
    )
    with tenant_scope(wo.tenant):
        kinds = list(fresh.events.values_list("kind", flat=True))
    assert kinds == ["created", "updated", "assigned", "status_changed", "comment"]


def test_change_form_offers_only_allowed_statuses(agent_a, rows):
    wo = rows["late"]
    with tenant_scope(wo.tenant):
        WorkOrder.objects.filter(pk=wo.pk).update(status="closed")
    page = client_for(agent_a).get(f"{CHANGELIST}{wo.pk}/change/").content.decode()
    assert 'value="open"' in page and 'value="resolved"' not in page


def test_add_form_creates_through_the_service(agent_a, tenant_a):
    response = client_for(agent_a).post(
        f"{CHANGELIST}add/",
        {
            "title": "后台新建",
            "priority": "high",
            "extra": "{}",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with tenant_scope(tenant_a):
        wo = WorkOrder.objects.get(title="后台新建")
        assert wo.number.startswith("WO-") and wo.due_at is not None
        assert wo.events.get().actor == agent_a


def test_other_tenants_row_is_not_reachable(agent_a, rows):
    response = client_for(agent_a).get(f"{CHANGELIST}{rows['foreign'].pk}/change/")
    assert response.status_code in (302, 404)
    assert "乙租户工单" not in response.content.decode()


def test_actions_assign_transition_export(agent_a, rows):
    client = client_for(agent_a)
    late, mine = rows["late"], rows["mine"]
    ids = [late.pk, mine.pk, rows["foreign"].pk]
    client.post(CHANGELIST, {"action": "assign_to_me", "_selected_action": ids})
    assert fetch(late.tenant, late.pk).assignee == agent_a
    assert fetch(rows["foreign"].tenant, rows["foreign"].pk).assignee is None
    client.post(CHANGELIST, {"action": "mark_closed", "_selected_action": [late.pk]})
    response = client.post(
        CHANGELIST, {"action": "mark_resolved", "_selected_action": [late.pk, mine.pk]}, follow=True
    )
    assert fetch(late.tenant, late.pk).status == "closed"  # closed -> resolved refused
    assert fetch(mine.tenant, mine.pk).status == "resolved"
    assert late.number in response.content.decode()
    export = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [mine.pk]})
    text = export.content.decode("utf-8-sig")
    assert mine.number in text and late.number not in text


def test_viewer_reads_without_actions_that_write(viewer_a, rows):
    client = client_for(viewer_a)
    page = client.get(CHANGELIST).content.decode()
    assert "我的工单" in page
    assert "assign_to_me" not in page and "export_csv" in page
    client.post(CHANGELIST, {"action": "assign_to_me", "_selected_action": [rows["late"].pk]})
    assert fetch(rows["late"].tenant, rows["late"].pk).assignee is None


def test_superuser_sees_all_and_acts_in_each_rows_tenant(superuser, rows):
    client = client_for(superuser)
    page = client.get(CHANGELIST).content.decode()
    assert "我的工单" in page and "乙租户工单" in page and "column-tenant" in page
    ids = [rows["late"].pk, rows["foreign"].pk]
    client.post(CHANGELIST, {"action": "mark_in_progress", "_selected_action": ids})
    assert fetch(rows["late"].tenant, rows["late"].pk).status == "in_progress"
    assert fetch(rows["foreign"].tenant, rows["foreign"].pk).status == "in_progress"
    assert "assign_to_me" not in page


def test_change_page_reads_the_work_order_and_its_suggestions_once(agent_a, rows):
    wo = rows["late"]
    client = client_for(agent_a)
    client.get(f"{CHANGELIST}{wo.pk}/change/")  # warm up caches
    with CaptureQueriesContext(connection) as page:
        response = client.get(f"{CHANGELIST}{wo.pk}/change/")
    assert response.status_code == 200
    assert f'action="{CHANGELIST}{wo.pk}/suggestions/"' in response.content.decode()
    selects = [q["sql"] for q in page.captured_queries if q["sql"].startswith("SELECT")]
    reads = [sql for sql in selects if sql.split(" WHERE ")[0].endswith('"workorders_workorder"')]
    assert len(reads) == 1
    assert sum('FROM "dialogue_workordersuggestion"' in sql for sql in selects) == 1
