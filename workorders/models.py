"""Work orders, their append-only timeline and the per-tenant number counter."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import AllTenantsManager, TenantManager, TenantOwnedModel, TenantQuerySet


class WorkOrderQuerySet(TenantQuerySet):
    def unresolved(self) -> WorkOrderQuerySet:
        return self.filter(status__in=WorkOrder.UNRESOLVED_STATUSES)

    def overdue(self, now: datetime | None = None) -> WorkOrderQuerySet:
        """Not yet resolved or closed and past the due time."""
        return self.unresolved().filter(due_at__lt=now or timezone.now())

    def not_overdue(self, now: datetime | None = None) -> WorkOrderQuerySet:
        return self.exclude(
            Q(status__in=WorkOrder.UNRESOLVED_STATUSES) & Q(due_at__lt=now or timezone.now())
        )


class WorkOrderManager(TenantManager.from_queryset(WorkOrderQuerySet)):
    """The fail-closed tenant manager, with the work-order QuerySet methods."""


class WorkOrder(TenantOwnedModel):
    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        PENDING = "pending", _("Pending (waiting on the requester)")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        CHAT = "chat", _("Chat")
        FEISHU = "feishu", _("Feishu")
        IMPORT = "import", _("Import")
        API = "api", _("API")

    UNRESOLVED_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.PENDING)

    number = models.CharField(_("number"), max_length=32, editable=False)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=20000, blank=True)
    category = models.CharField(_("category"), max_length=64, blank=True)
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.MANUAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_work_orders",
        verbose_name=_("assignee"),
    )
    requester_name = models.CharField(_("requester name"), max_length=100, blank=True)
    requester_contact = models.CharField(_("requester contact"), max_length=200, blank=True)
    requester_external_id = models.CharField(_("requester external id"), max_length=128, blank=True)
    vin = models.CharField(_("VIN"), max_length=32, blank=True)
    module = models.CharField(_("module"), max_length=64, blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    extra = models.JSONField(
        _("extra attributes"),
        default=dict,
        blank=True,
        help_text=_("Free-form attributes, for example columns of an imported file."),
    )
    resolution = models.TextField(_("resolution"), max_length=20000, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("Requester's rating from 1 to 5."),
    )
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    first_response_at = models.DateTimeField(
        _("first response at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a person first replied to the requester or changed the status."),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    objects = WorkOrderManager()
    all_tenants = AllTenantsManager.from_queryset(WorkOrderQuerySet)()

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="workorder_unique_number"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="workorder_satisfaction_1_5",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="workorder_tenant_created"),
            models.Index(
                fields=["tenant", "status", "priority", "-created_at", "-id"],
                name="workorder_status_priority",
            ),
            models.Index(
                fields=["tenant", "assignee", "status", "-created_at"],
                name="workorder_assignee_status",
            ),
            models.Index(
                fields=["tenant", "due_at"],
                condition=Q(status__in=["open", "in_progress", "pending"]),
                name="workorder_unresolved_due",
            ),
            # Reports: resolutions and SLA deadlines in a period.
            models.Index(
                fields=["tenant", "resolved_at"],
                condition=Q(resolved_at__isnull=False),
                name="workorder_resolved",
            ),
            models.Index(fields=["tenant", "due_at"], name="workorder_due"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def is_overdue(self, now: datetime | None = None) -> bool:
        return (
            self.status in self.UNRESOLVED_STATUSES
            and self.due_at is not None
            and self.due_at < (now or timezone.now())
        )


class WorkOrderEvent(TenantOwnedModel):
    """One entry of a work order's timeline. Rows are only ever added."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        COMMENT = "comment", _("Comment")
        RESOLUTION_SET = "resolution_set", _("Resolution set")
        SUGGESTION_ADDED = "suggestion_added", _("AI suggestion added")

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("work order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    body = models.TextField(_("text"), blank=True)
    internal = models.BooleanField(
        _("internal"),
        default=False,
        help_text=_("Internal note for staff; otherwise a reply to the requester."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("work order event")
        verbose_name_plural = _("work order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["work_order", "created_at"], name="workorderevent_wo")]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.kind}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValueError("Work-order events are append-only.")
        super().save(*args, **kwargs)


class WorkOrderCounter(TenantOwnedModel):
    """Last number handed out per tenant and day (see rules.allocate_numbers)."""

    day = models.DateField(_("day"))
    last_value = models.PositiveIntegerField(_("last value"), default=0)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("work-order counter")
        verbose_name_plural = _("work-order counters")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="workordercounter_unique_day")
        ]
