"""The rules of a work order: its statuses and transitions, SLA, numbers and fields."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from helpdesk.config import get_config
from helpdesk.roles import Role
from helpdesk.tenancy import current_tenant
from workorders.models import WorkOrder, WorkOrderCounter

logger = logging.getLogger(__name__)

Status = WorkOrder.Status

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
