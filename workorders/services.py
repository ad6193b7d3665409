"""Writes of work orders: every change goes through here and leaves a timeline event.

The tenant is always the active scope. Validation problems raise Django's
ValidationError with a dict of fields; the API turns it into a 400.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from helpdesk.config import get_config
from helpdesk.tenancy import current_tenant
from workorders.models import WorkOrder, WorkOrderCounter, WorkOrderEvent

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
Kind = WorkOrderEvent.Kind

# The one status model of the product. Reopening (resolved/closed -> open) is allowed.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.OPEN: (Status.IN_PROGRESS, Status.PENDING, Status.RESOLVED, Status.CLOSED),
    Status.IN_PROGRESS: (Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED),
    Status.PENDING: (Status.OPEN, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED),
    Status.RESOLVED: (Status.OPEN, Status.CLOSED),
    Status.CLOSED: (Status.OPEN,),
}

# What a person fills in when creating a work order (the API and the admin form), in form order.
CREATE_FIELDS = (
    "title",
    "description",
    "category",
    "priority",
    "assignee",
    "requester_name",
    "requester_contact",
    "requester_external_id",
    "vin",
    "module",
    "region",
    "extra",
    "due_at",
)
# Fields workorder_update changes directly; `status` and `assignee` go through their own rules.
UPDATABLE_FIELDS = frozenset(CREATE_FIELDS) - {"assignee"} | {"resolution", "satisfaction"}
MAX_COMMENT_LENGTH = 10000
MAX_NOTE_LENGTH = 2000
MAX_EXTRA_JSON_LENGTH = 20000
MAX_BULK_IDS = 500


def allowed_transitions(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def sla_hours(priority: str) -> float:
    """Hours from creation to due time, from the ConfigService, per priority."""
    config = get_config()
    defaults = config.declaration("workorders.sla_hours").default
    value = (config.get("workorders.sla_hours") or {}).get(priority, defaults.get(priority))
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        logger.warning("workorders.sla_hours[%s]=%r is not a positive number", priority, value)
        value = defaults.get(priority, defaults[WorkOrder.Priority.MEDIUM])
    return float(value)


def due_at_for(*, priority: str, start: datetime) -> datetime:
    return start + timedelta(hours=sla_hours(priority))


def allocate_numbers(*, count: int = 1, day: date | None = None) -> list[str]:
    """Reserve `count` consecutive numbers of the active tenant for `day`.

    One atomic upsert on the counter row: concurrent creators never get the same
    number, and the row stays locked until the caller's transaction ends, so a
    rolled-back creation leaves no gap.
    """
    tenant = current_tenant()
    day = day or timezone.localdate()
    quote = connection.ops.quote_name
    table = quote(WorkOrderCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('tenant_id')}, {quote('day')}, {quote('last_value')}) "
            f"VALUES (%s, %s, %s) ON CONFLICT ({quote('tenant_id')}, {quote('day')}) "
            f"DO UPDATE SET {quote('last_value')} = {table}.{quote('last_value')} + %s "
            f"RETURNING {quote('last_value')}",
            [tenant.pk, day.isoformat(), count, count],
        )
        last = cursor.fetchone()[0]
    prefix = get_config().get("workorders.number_prefix")
    return [f"{prefix}-{day:%Y%m%d}-{n:04d}" for n in range(last - count + 1, last + 1)]


def check_assignee(assignee: User | None) -> None:
    """The assignee is an active agent (or tenant admin) of the active tenant."""
    if assignee is None:
        return
    if assignee.tenant_id != current_tenant().pk:
        raise ValidationError({"assignee": _("The assignee must be a user of this tenant.")})
    if not assignee.has_role(Role.AGENT):
        raise ValidationError(
            {"assignee": _("The assignee must be an active agent or tenant administrator.")}
        )


def check_extra(extra: Any) -> None:
    if not isinstance(extra, dict):
        raise ValidationError({"extra": _("Extra attributes must be a JSON object.")})
    if len(json.dumps(extra, ensure_ascii=False, default=str)) > MAX_EXTRA_JSON_LENGTH:
        raise ValidationError(
            {
                "extra": _("Extra attributes are too large (at most %(n)d characters).")
                % {"n": MAX_EXTRA_JSON_LENGTH}
            }
        )


def _validate(work_order: WorkOrder) -> None:
    work_order.assign_tenant_from_scope()
    check_extra(work_order.extra)
    work_order.full_clean(exclude=["number", "assignee"], validate_constraints=False)


def _clean_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, User):
        return value.pk
    return value


def _assignee_snapshot(user: User | None) -> dict[str, Any]:
    if user is None:
        return {"assignee": None, "assignee_name": ""}
    return {"assignee": user.pk, "assignee_name": user.get_full_name() or user.username}


def _event_actor(actor: User | None) -> User | None:
    """The user an event records: nobody for anonymous or system changes."""
    return actor if actor is not None and actor.is_authenticated else None


def _created_snapshot(work_order: WorkOrder) -> dict[str, Any]:
    """The `after` of a work order's CREATED event."""
    return {
        "number": work_order.number,
        "status": work_order.status,
        "priority": work_order.priority,
        "source": work_order.source,
        **_assignee_snapshot(work_order.assignee),
    }


def _event(
    work_order: WorkOrder,
    *,
    kind: str,
    actor: User | None,
    body: str = "",
    before: dict | None = None,
    after: dict | None = None,
    internal: bool = False,
) -> WorkOrderEvent:
    return WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=kind,
        actor=_event_actor(actor),
        body=body,
        before=before,
        after=after,
        internal=internal,
    )


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
        _event(work_order, kind=Kind.CREATED, actor=actor, after=_created_snapshot(work_order))
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
                before[name] = _json_value(getattr(work_order, name))
                after[name] = _json_value(value)
                setattr(work_order, name, value)
        if "priority" in after and "due_at" not in fields:
            new_due = due_at_for(priority=work_order.priority, start=work_order.created_at)
            before["due_at"] = _json_value(work_order.due_at)
            after["due_at"] = _json_value(new_due)
            work_order.due_at = new_due
        if after:
            _validate(work_order)
            work_order.save(update_fields=[*after, "updated_at"])
            resolution = {"resolution": after.pop("resolution")} if "resolution" in after else None
            if resolution:
                _event(
                    work_order,
                    kind=Kind.RESOLUTION_SET,
                    actor=actor,
                    before={"resolution": before.pop("resolution")},
                    after=resolution,
                )
            if after:
                _event(work_order, kind=Kind.UPDATED, actor=actor, before=before, after=after)
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
    _event(
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
    _event(
        work_order,
        kind=Kind.ASSIGNED,
        actor=actor,
        before=_assignee_snapshot(previous),
        after=_assignee_snapshot(assignee),
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
    with transaction.atomic():
        event = _event(work_order, kind=Kind.COMMENT, actor=actor, body=body, internal=internal)
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
        return _event(work_order, kind=kind, actor=actor, body=body, before=before, after=after)


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
                actor=_event_actor(actor),
                body=body,
                after=_created_snapshot(work_order),
                created_at=now,
            )
            for work_order in work_orders
        )
    return work_orders
