"""Reads of work orders: the filtered list used by the API, the export and the admin."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from accounts.models import User
from helpdesk.roles import Role
from helpdesk.tenancy import current_tenant
from workorders.models import WorkOrder, WorkOrderEvent

PRIORITY_RANK = {"low": 1, "medium": 2, "high": 3, "urgent": 4}
ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "due_at": ("due_at", "id"),
    "-due_at": ("-due_at", "-id"),
    "number": ("number",),
    "-number": ("-number",),
    "priority": ("priority_rank", "-created_at", "-id"),
    "-priority": ("-priority_rank", "-created_at", "-id"),
}


@dataclass
class WorkOrderFilters:
    statuses: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    category: str = ""
    module: str = ""
    region: str = ""
    # An id, "me" or "none" (unassigned).
    assignee: str = ""
    overdue: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    q: str = ""
    ordering: str = "-created_at"


def workorder_list(*, filters: WorkOrderFilters, user: User | None = None) -> QuerySet[WorkOrder]:
    queryset = WorkOrder.objects.select_related("assignee")
    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    if filters.priorities:
        queryset = queryset.filter(priority__in=filters.priorities)
    if filters.sources:
        queryset = queryset.filter(source__in=filters.sources)
    for name in ("category", "module", "region"):
        if value := getattr(filters, name):
            queryset = queryset.filter(**{name: value})
    if filters.assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee == "me":
        queryset = queryset.filter(assignee_id=user.pk if user is not None else None)
    elif filters.assignee:
        queryset = queryset.filter(assignee_id=int(filters.assignee))
    if filters.overdue is True:
        queryset = queryset.overdue()
    elif filters.overdue is False:
        queryset = queryset.not_overdue()
    if filters.created_after:
        queryset = queryset.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        queryset = queryset.filter(created_at__lt=filters.created_before)
    if filters.q:
        queryset = search(queryset, filters.q)
    ordering = ORDERINGS.get(filters.ordering, ORDERINGS["-created_at"])
    if "priority_rank" in ordering[0]:
        queryset = queryset.annotate(
            priority_rank=Case(
                *(When(priority=key, then=Value(rank)) for key, rank in PRIORITY_RANK.items()),
                output_field=IntegerField(),
            )
        )
    return queryset.order_by(*ordering)


NUMBER_PATTERN = re.compile(r"[A-Za-z]+-\d{8}-\d{4,}")
# Characters that can appear in a work-order number.
NUMBER_CHARACTERS = re.compile(r"[0-9A-Za-z-]")
# The indexed expression of migration 0002 (a GIN index of character bigrams).
BIGRAMS_MATCH = (
    'workorder_bigrams("workorders_workorder"."title" || \' \' || '
    '"workorders_workorder"."description") @> ARRAY[%s]::text[]'
)


def search(queryset: QuerySet[WorkOrder], text: str) -> QuerySet[WorkOrder]:
    """Substring search in number, title and description.

    On PostgreSQL (migration 0002): a complete work-order number is looked up
    exactly through the unique index (its trigrams "WO-", "202"... are in every
    row); a 2-character term without number characters (typically a Chinese
    word) cannot match a number and uses the bigram index, with the LIKE kept as
    the cheap per-row check (the bigram function is costly to evaluate row by
    row); everything else is `icontains`, served by the trigram indexes from 3
    characters on.
    """
    text = text.strip()
    if NUMBER_PATTERN.fullmatch(text):
        return queryset.filter(number=text.upper())
    if connection.vendor == "postgresql" and len(text) == 2 and not NUMBER_CHARACTERS.search(text):
        return queryset.filter(
            RawSQL(BIGRAMS_MATCH, [text.upper()], output_field=BooleanField()),
            Q(title__icontains=text) | Q(description__icontains=text),
        )
    return queryset.filter(
        Q(number__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
    )


def workorder_detail_queryset() -> QuerySet[WorkOrder]:
    events = WorkOrderEvent.objects.select_related("actor").order_by("created_at", "id")
    return WorkOrder.objects.select_related("assignee").prefetch_related(
        Prefetch("events", queryset=events)
    )


def workorder_timeline(*, work_order: WorkOrder) -> QuerySet[WorkOrderEvent]:
    return (
        WorkOrderEvent.objects.filter(work_order=work_order)
        .select_related("actor")
        .order_by("created_at", "id")
    )


def assignable_users() -> QuerySet[User]:
    """Active agents and tenant admins of the active tenant."""
    return User.objects.filter(
        tenant=current_tenant(), is_active=True, role__in=[Role.AGENT, Role.TENANT_ADMIN]
    ).order_by("username")
