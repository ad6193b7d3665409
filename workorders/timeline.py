"""A work order's timeline: the events that every change leaves, with before and after."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from accounts.models import User
from workorders.models import WorkOrder, WorkOrderEvent


def json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, User):
        return value.pk
    return value


def assignee_snapshot(user: User | None) -> dict[str, Any]:
    if user is None:
        return {"assignee": None, "assignee_name": ""}
    return {"assignee": user.pk, "assignee_name": user.get_full_name() or user.username}


def event_actor(actor: User | None) -> User | None:
    """The user an event records: nobody for anonymous or system changes."""
    return actor if actor is not None and actor.is_authenticated else None


def created_snapshot(work_order: WorkOrder) -> dict[str, Any]:
    """The `after` of a work order's CREATED event."""
    return {
        "number": work_order.number,
        "status": work_order.status,
        "priority": work_order.priority,
        "source": work_order.source,
        **assignee_snapshot(work_order.assignee),
    }


def counts_as_response(*, kind: str, actor: User | None, internal: bool) -> bool:
    """Whether an event is a person answering the requester: a reply, a status change or a
    resolution. Internal notes, assignments and the product's own events are not."""
    if event_actor(actor) is None:
        return False
    if kind == WorkOrderEvent.Kind.COMMENT:
        return not internal
    return kind in (WorkOrderEvent.Kind.STATUS_CHANGED, WorkOrderEvent.Kind.RESOLUTION_SET)


def record_event(
    work_order: WorkOrder,
    *,
    kind: str,
    actor: User | None,
    body: str = "",
    before: dict | None = None,
    after: dict | None = None,
    internal: bool = False,
) -> WorkOrderEvent:
    """Append an event; the first response also sets the work order's `first_response_at`."""
    event = WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=kind,
        actor=event_actor(actor),
        body=body,
        before=before,
        after=after,
        internal=internal,
    )
    if work_order.first_response_at is None and counts_as_response(
        kind=kind, actor=actor, internal=internal
    ):
        WorkOrder.objects.filter(pk=work_order.pk, first_response_at__isnull=True).update(
            first_response_at=event.created_at
        )
        work_order.first_response_at = event.created_at
    return event
