"""Services: numbers, SLA, the status model, assignment, comments and the timeline."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from conftest import make_user
from helpdesk.config import get_config
from helpdesk.tenancy import TenantScopeError, tenant_scope
from workorders import rules, services
from workorders.models import WorkOrder, WorkOrderEvent

S = WorkOrder.Status
pytestmark = pytest.mark.django_db


def kinds(work_order) -> list[str]:
    return list(work_order.events.order_by("id").values_list("kind", flat=True))


def test_create_numbers_per_tenant_and_day(scope_a, agent_a, tenant_b):
    first = services.workorder_create(title="一", actor=agent_a)
    second = services.workorder_create(title="二", actor=agent_a)
    day = timezone.localdate().strftime("%Y%m%d")
    assert first.number == f"WO-{day}-0001"
    assert second.number == f"WO-{day}-0002"
    with tenant_scope(tenant_b):
        assert services.workorder_create(title="乙").number == f"WO-{day}-0001"
    assert first.tenant_id == scope_a.pk
    event = first.events.get()
    assert (event.kind, event.actor, event.after["status"]) == ("created", agent_a, "open")


def test_due_time_follows_the_configured_sla(scope_a):
    get_config().set("workorders.sla_hours", {"urgent": 2, "low": 100})
    urgent = services.workorder_create(title="x", priority="urgent")
    assert urgent.due_at - urgent.created_at == timedelta(hours=2)
    medium = services.workorder_create(title="x", priority="medium")
    assert medium.due_at - medium.created_at == timedelta(hours=72)  # default kept
    services.workorder_update(work_order=medium, actor=None, priority="low")
    assert medium.due_at - medium.created_at == timedelta(hours=100)


def test_overdue_queryset_and_flag(scope_a):
    late = services.workorder_create(title="late")
    WorkOrder.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    done = services.workorder_create(title="done")
    WorkOrder.objects.filter(pk=done.pk).update(
        due_at=timezone.now() - timedelta(hours=1), status=S.RESOLVED
    )
    services.workorder_create(title="fresh")
    assert list(WorkOrder.objects.overdue()) == [late]
    assert WorkOrder.objects.not_overdue().count() == 2
    late.refresh_from_db()
    assert late.is_overdue()


def test_create_rejects_bad_input_and_writes_nothing(scope_a, agent_b, viewer_a):
    cases = [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "x", "priority": "bogus"}, "priority"),
        ({"title": "x", "source": "fax"}, "source"),
        ({"title": "x", "extra": ["not", "a", "dict"]}, "extra"),
        ({"title": "x", "assignee": agent_b}, "assignee"),
        ({"title": "x", "assignee": viewer_a}, "assignee"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as info:
            services.workorder_create(**kwargs)
        assert field in info.value.message_dict, kwargs
    assert not WorkOrder.objects.exists()
    assert not WorkOrderEvent.objects.exists()


def test_transitions_enforced_with_timestamps(scope_a, agent_a):
    wo = services.workorder_create(title="x")
    services.workorder_transition(work_order=wo, status=S.IN_PROGRESS, actor=agent_a)
    services.workorder_transition(work_order=wo, status=S.RESOLVED, actor=agent_a, note="ok")
    assert wo.resolved_at is not None and wo.closed_at is None
    with pytest.raises(ValidationError) as info:
        services.workorder_transition(work_order=wo, status=S.PENDING, actor=agent_a)
    message = info.value.message_dict["status"][0]
    assert "(open)" in message and "(closed)" in message
    services.workorder_transition(work_order=wo, status=S.CLOSED, actor=agent_a)
    assert wo.closed_at is not None
    services.workorder_transition(work_order=wo, status=S.OPEN, actor=agent_a)  # reopen
    assert wo.resolved_at is None and wo.closed_at is None and wo.due_at > timezone.now()
    wo.refresh_from_db()
    assert wo.status == S.OPEN
    changes = WorkOrderEvent.objects.filter(kind="status_changed").order_by("id")
    assert [(e.before["status"], e.after["status"]) for e in changes] == [
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "open"),
    ]
    assert changes[1].body == "ok"


def test_transition_works_on_the_locked_current_row(scope_a, agent_a):
    wo = services.workorder_create(title="x")
    stale = WorkOrder.objects.get(pk=wo.pk)
    services.workorder_transition(work_order=wo, status=S.CLOSED, actor=agent_a)
    with pytest.raises(ValidationError):
        services.workorder_transition(work_order=stale, status=S.RESOLVED, actor=agent_a)


def test_assign_update_comment_write_the_timeline(scope_a, agent_a, admin_a):
    wo = services.workorder_create(title="x", actor=agent_a)
    services.workorder_assign(work_order=wo, assignee=agent_a, actor=admin_a)
    services.workorder_assign(work_order=wo, assignee=agent_a, actor=admin_a)  # no change
    services.workorder_update(work_order=wo, actor=agent_a, title="新标题", resolution="更换")
    services.workorder_update(work_order=wo, actor=agent_a, title="新标题")  # no change
    services.workorder_comment(work_order=wo, actor=agent_a, body="内部备注")
    services.workorder_comment(work_order=wo, actor=agent_a, body="回复", internal=False)
    services.workorder_add_event(work_order=wo, kind="suggestion_added", body="建议重启")
    assert kinds(wo) == [
        "created",
        "assigned",
        "resolution_set",
        "updated",
        "comment",
        "comment",
        "suggestion_added",
    ]
    assigned = wo.events.get(kind="assigned")
    assert assigned.before["assignee"] is None and assigned.after["assignee"] == agent_a.pk
    updated = wo.events.get(kind="updated")
    assert updated.before == {"title": "x"} and updated.after == {"title": "新标题"}
    assert [e.internal for e in wo.events.filter(kind="comment")] == [True, False]


def test_update_status_and_assignee_go_through_their_rules(scope_a, agent_a, agent_b):
    wo = services.workorder_create(title="x")
    services.workorder_update(work_order=wo, actor=agent_a, status=S.PENDING, assignee=agent_a)
    assert (wo.status, wo.assignee) == (S.PENDING, agent_a)
    with pytest.raises(ValidationError):
        services.workorder_update(work_order=wo, actor=agent_a, assignee=agent_b)
    with pytest.raises(ValidationError):
        services.workorder_update(work_order=wo, actor=agent_a, number="WO-1")
    with pytest.raises(ValidationError):
        services.workorder_update(work_order=wo, actor=agent_a, title="ok", satisfaction=9)
    wo.refresh_from_db()
    assert wo.title == "x" and wo.satisfaction is None


def test_comment_and_event_validation(scope_a, agent_a):
    wo = services.workorder_create(title="x")
    for body in ("", "   ", "x" * (rules.MAX_COMMENT_LENGTH + 1)):
        with pytest.raises(ValidationError):
            services.workorder_comment(work_order=wo, actor=agent_a, body=body)
    with pytest.raises(ValidationError):
        services.workorder_add_event(work_order=wo, kind="hacked")
    assert kinds(wo) == ["created"]


def test_events_are_append_only(scope_a):
    wo = services.workorder_create(title="x")
    event = wo.events.get()
    event.body = "rewritten"
    with pytest.raises(ValueError):
        event.save()


def test_bulk_transition_is_all_or_nothing(scope_a, agent_a, tenant_b, make_workorder):
    one = services.workorder_create(title="1")
    two = services.workorder_create(title="2")
    services.workorder_transition(work_order=two, status=S.CLOSED, actor=agent_a)
    foreign = make_workorder(tenant_b)
    with pytest.raises(ValidationError) as info:
        services.workorders_bulk_transition(ids=[one.pk, two.pk], status=S.RESOLVED, actor=agent_a)
    assert two.number in info.value.message_dict["ids"][0]
    with pytest.raises(ValidationError):
        services.workorders_bulk_transition(
            ids=[one.pk, foreign.pk], status=S.RESOLVED, actor=agent_a
        )
    assert WorkOrder.objects.get(pk=one.pk).status == S.OPEN
    services.workorders_bulk_transition(ids=[one.pk], status=S.RESOLVED, actor=agent_a)
    assert WorkOrder.objects.get(pk=one.pk).status == S.RESOLVED
    assert services.workorders_bulk_delete(ids=[one.pk, two.pk], actor=agent_a) == 2
    assert not WorkOrder.objects.exists()
    assert WorkOrder.all_tenants.filter(pk=foreign.pk).exists()


def test_scoping_fails_closed(make_workorder, tenant_a, tenant_b):
    wo = make_workorder(tenant_a)
    with pytest.raises(TenantScopeError):
        WorkOrder.objects.count()
    with tenant_scope(tenant_b):
        assert not WorkOrder.objects.filter(pk=wo.pk).exists()
        with pytest.raises(WorkOrder.DoesNotExist):
            services.workorder_transition(work_order=wo, status=S.CLOSED, actor=None)


def test_number_prefix_from_config(scope_a):
    get_config().set("workorders.number_prefix", "TR")
    assert re.fullmatch(r"TR-\d{8}-0001", services.workorder_create(title="x").number)


def test_assignee_deleted_keeps_the_work_order(scope_a, tenant_a):
    agent = make_user(tenant_a, "agent", "leaving")
    wo = services.workorder_create(title="x", assignee=agent)
    agent.delete()
    wo.refresh_from_db()
    assert wo.assignee is None
