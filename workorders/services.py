"""Writes of work orders: every change goes through here and leaves a timeline event.

The tenant is always the active scope. Validation problems raise Django's
ValidationError with a dict of fields; the API turns it into a 400.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.rules import (
    MAX_BULK_IDS,
    MAX_COMMENT_LENGTH,
    MAX_NOTE_LENGTH,
    UPDATABLE_FIELDS,
    allocate_numbers,
    allowed_transitions,
    check_assignee,
    check_extra,
    due_at_for,
)
from workorders.timeline import (
    assignee_snapshot,
    created_snapshot,
    event_actor,
    json_value,
    record_event,
)

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
Kind = WorkOrderEvent.Kind


def _validate(work_order: WorkOrder) -> None:
    work_order.assign_tenant_from_scope()
    check_extra(work_order.extra)
    work_order.full_clean(exclude=["number", "assignee"], validate_constraints=False)


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _lock(work_order: WorkOrder) -> None:
    """Reload the row under a lock so that concurrent changes apply one after another."""
    work_order.refresh_from_db(from_queryset=WorkOrder.objects.select_for_update())


def _check_note(note: str, field: str = "note", limit: int = MAX_NOTE_LENGTH) -> str:
    note = (note or "").strip()
    if len(note) > limit:
        raise ValidationError(
            {field: _("Ensure this field has no more than %(n)d characters.") % {"n": limit}}
        )
    return note


def workorder_create(
    *,
    title: str,
    description: str = "",
    category: str = "",
    priority: str = WorkOrder.Priority.MEDIUM,
    source: str = WorkOrder.Source.MANUAL,
    actor: User | None = None,
    requester_name: str = "",
    requester_contact: str = "",
    requester_external_id: str = "",
    vin: str = "",
    module: str = "",
    region: str = "",
    extra: dict | None = None,
    assignee: User | None = None,
    due_at: datetime | None = None,
) -> WorkOrder:
    check_assignee(assignee)
    now = timezone.now()
    work_order = WorkOrder(
        title=_clean_text(title or ""),
        description=_clean_text(description),
        category=_clean_text(category),
        priority=priority,
        source=source,
        requester_name=_clean_text(requester_name),
        requester_contact=_clean_text(requester_contact),
        requester_external_id=_clean_text(requester_external_id),
        vin=_clean_text(vin).upper(),
        module=_clean_text(module),
        region=_clean_text(region),
        extra={} if extra is None else extra,
        assignee=assignee,
        created_at=now,
    )
    _validate(work_order)
    work_order.due_at = due_at or due_at_for(priority=priority, start=now)
    with transaction.atomic():
        work_order.number = allocate_numbers(count=1)[0]
        work_order.save(force_insert=True)
        record_event(work_order, kind=Kind.CREATED, actor=actor, after=created_snapshot(work_order))
    return work_order


def workorder_update(*, work_order: WorkOrder, actor: User | None, **fields: Any) -> WorkOrder:
    """Change any editable fields; `status` and `assignee` go through their own rules."""
    unknown = set(fields) - UPDATABLE_FIELDS - {"status", "assignee"}
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    if "assignee" in fields:
        check_assignee(fields["assignee"])
    with transaction.atomic():
        _lock(work_order)
        status = fields.pop("status", None)
        assign = "assignee" in fields
        assignee = fields.pop("assignee", None)
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for name, value in fields.items():
            value = _clean_text(value)
            if name == "vin" and isinstance(value, str):
                value = value.upper()
            if value != getattr(work_order, name):
                before[name] = json_value(getattr(work_order, name))
                after[name] = json_value(value)
                setattr(work_order, name, value)
        if "priority" in after and "due_at" not in fields:
            new_due = due_at_for(priority=work_order.priority, start=work_order.created_at)
            before["due_at"] = json_value(work_order.due_at)
            after["due_at"] = json_value(new_due)
            work_order.due_at = new_due
        if after:
            _validate(work_order)
            work_order.save(update_fields=[*after, "updated_at"])
            resolution = {"resolution": after.pop("resolution")} if "resolution" in after else None
            if resolution:
                record_event(
                    work_order,
                    kind=Kind.RESOLUTION_SET,
                    actor=actor,
                    before={"resolution": before.pop("resolution")},
                    after=resolution,
                )
            if after:
                record_event(work_order, kind=Kind.UPDATED, actor=actor, before=before, after=after)
        if assign:
            _assign(work_order, assignee=assignee, actor=actor)
        if status is not None and status != work_order.status:
            _transition(work_order, status=status, actor=actor, note="")
    return work_order


def _transition_error(current: str, target: str) -> ValidationError:
    if target not in Status.values:
        return ValidationError(
            {"status": _("Unknown status “%(status)s”.") % {"status": target}},
            code="invalid_choice",
        )
    allowed = ", ".join(f"{Status(s).label} ({s})" for s in allowed_transitions(current))
    return ValidationError(
        {
            "status": _(
                "A work order cannot go from %(current)s to %(target)s. Allowed: %(allowed)s."
            )
            % {"current": Status(current).label, "target": Status(target).label, "allowed": allowed}
        },
        code="invalid_transition",
    )


def _apply_status(work_order: WorkOrder, status: str, now: datetime) -> None:
    previous = work_order.status
    work_order.status = status
    if status == Status.RESOLVED:
        work_order.resolved_at = now
    elif status == Status.CLOSED:
        work_order.closed_at = now
    elif previous in (Status.RESOLVED, Status.CLOSED):
        # Reopened: the requester is waiting again, so the SLA clock restarts.
        work_order.resolved_at = None
        work_order.closed_at = None
        work_order.due_at = due_at_for(priority=work_order.priority, start=now)


def _transition(work_order: WorkOrder, *, status: str, actor: User | None, note: str) -> None:
    if status not in allowed_transitions(work_order.status):
        raise _transition_error(work_order.status, status)
    previous = work_order.status
    _apply_status(work_order, status, timezone.now())
    work_order.save(update_fields=["status", "resolved_at", "closed_at", "due_at", "updated_at"])
    record_event(
        work_order,
        kind=Kind.STATUS_CHANGED,
        actor=actor,
        body=note,
        before={"status": previous},
        after={"status": status},
    )


def workorder_transition(
    *, work_order: WorkOrder, status: str, actor: User | None, note: str = ""
) -> WorkOrder:
    note = _check_note(note)
    with transaction.atomic():
        _lock(work_order)
        _transition(work_order, status=status, actor=actor, note=note)
    return work_order


def _assign(work_order: WorkOrder, *, assignee: User | None, actor: User | None) -> None:
    new_id = assignee.pk if assignee is not None else None
    if new_id == work_order.assignee_id:
        return
    previous = work_order.assignee
    work_order.assignee = assignee
    work_order.save(update_fields=["assignee", "updated_at"])
    record_event(
        work_order,
        kind=Kind.ASSIGNED,
        actor=actor,
        before=assignee_snapshot(previous),
        after=assignee_snapshot(assignee),
    )


def workorder_assign(
    *, work_order: WorkOrder, assignee: User | None, actor: User | None
) -> WorkOrder:
    check_assignee(assignee)
    with transaction.atomic():
        _lock(work_order)
        _assign(work_order, assignee=assignee, actor=actor)
    return work_order


def workorder_comment(
    *, work_order: WorkOrder, actor: User | None, body: str, internal: bool = True
) -> WorkOrderEvent:
    """An internal note for staff, or (internal=False) a reply to the requester."""
    body = _check_note(body, field="body", limit=MAX_COMMENT_LENGTH)
    if not body:
        raise ValidationError({"body": _("This field may not be blank.")})
    # No savepoint: a failure here fails the caller's transaction anyway, and a reply
    # from the desk is a comment, so this runs on every one.
    with transaction.atomic(savepoint=False):
        event = record_event(
            work_order, kind=Kind.COMMENT, actor=actor, body=body, internal=internal
        )
        WorkOrder.objects.filter(pk=work_order.pk).update(updated_at=timezone.now())
    return event


def workorder_add_event(
    *,
    work_order: WorkOrder,
    kind: str,
    actor: User | None = None,
    body: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> WorkOrderEvent:
    """Append an event written by another part of the product (e.g. an AI suggestion)."""
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Unknown event kind “%(kind)s”.") % {"kind": kind}})
    with transaction.atomic():
        return record_event(
            work_order, kind=kind, actor=actor, body=body, before=before, after=after
        )


def workorder_delete(*, work_order: WorkOrder, actor: User | None) -> None:
    logger.info("Work order %s deleted by %s", work_order.number, actor)
    with transaction.atomic():
        work_order.delete()


def _rows_for_bulk(ids: Iterable[int]) -> list[WorkOrder]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationError({"ids": _("Select at least one work order.")})
    if len(ids) > MAX_BULK_IDS:
        raise ValidationError(
            {"ids": _("At most %(n)d work orders at a time.") % {"n": MAX_BULK_IDS}}
        )
    rows = list(WorkOrder.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    missing = sorted(set(ids) - {row.pk for row in rows})
    if missing:
        raise ValidationError(
            {"ids": [_("Work order %(id)s does not exist.") % {"id": pk} for pk in missing]}
        )
    return rows


def workorders_bulk_transition(
    *, ids: Iterable[int], status: str, actor: User | None, note: str = ""
) -> list[WorkOrder]:
    """Move every listed work order, or none: each one that cannot move is reported."""
    note = _check_note(note)
    with transaction.atomic():
        rows = _rows_for_bulk(ids)
        problems = [
            f"{row.number}: {_transition_error(row.status, status).message_dict['status'][0]}"
            for row in rows
            if status not in allowed_transitions(row.status)
        ]
        if problems:
            raise ValidationError({"ids": problems})
        for row in rows:
            _transition(row, status=status, actor=actor, note=note)
    return rows


def workorders_bulk_delete(*, ids: Iterable[int], actor: User | None) -> int:
    with transaction.atomic():
        rows = _rows_for_bulk(ids)
        logger.info("Work orders %s deleted by %s", ", ".join(row.number for row in rows), actor)
        WorkOrder.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def workorders_import(
    *, rows: list[dict[str, Any]], actor: User | None, filename: str = ""
) -> list[WorkOrder]:
    """Create work orders from validated import rows (see workorders.importing), all or none."""
    now = timezone.now()
    with transaction.atomic():
        numbers = allocate_numbers(count=len(rows))
        work_orders = []
        for number, row in zip(numbers, rows, strict=True):
            work_order = WorkOrder(
                **row,
                number=number,
                source=WorkOrder.Source.IMPORT,
                created_at=now,
                due_at=due_at_for(priority=row["priority"], start=now),
            )
            if work_order.status in (Status.RESOLVED, Status.CLOSED):
                work_order.resolved_at = now
            if work_order.status == Status.CLOSED:
                work_order.closed_at = now
            work_orders.append(work_order)
        WorkOrder.objects.bulk_create(work_orders)
        body = _("Imported from %(file)s.") % {"file": filename} if filename else ""
        WorkOrderEvent.objects.bulk_create(
            WorkOrderEvent(
                work_order=work_order,
                kind=Kind.CREATED,
                actor=event_actor(actor),
                body=body,
                after=created_snapshot(work_order),
                created_at=now,
            )
            for work_order in work_orders
        )
    return work_orders
