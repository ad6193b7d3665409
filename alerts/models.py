"""Alert rules, the alerts they raise, the notifications sent and the scheduler's chain."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.registry import UNIT_LABELS, Unit
from helpdesk.tenancy import TenantOwnedModel

MAX_WINDOW_MINUTES = 30 * 24 * 60


class Level(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")
    CRITICAL = "critical", _("Critical")


class Comparison(models.TextChoices):
    GT = "gt", ">"
    GTE = "gte", ">="
    LT = "lt", "<"
    LTE = "lte", "<="

    def holds(self, value: float, threshold: float) -> bool:
        match self:
            case Comparison.GT:
                return value > threshold
            case Comparison.GTE:
                return value >= threshold
            case Comparison.LT:
                return value < threshold
            case Comparison.LTE:
                return value <= threshold


UnitChoices = models.TextChoices("UnitChoices", [(u.name, (u.value, UNIT_LABELS[u])) for u in Unit])


class AlertRule(TenantOwnedModel):
    """`metric comparison threshold` over the last `window_minutes`.

    `threshold` is in `unit`, which is copied from the metric when the rule is saved;
    the evaluator refuses a rule whose unit no longer matches its metric's unit.
    """

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    metric = models.CharField(_("metric"), max_length=100)
    comparison = models.CharField(_("comparison"), max_length=3, choices=Comparison.choices)
    threshold = models.FloatField(_("threshold"))
    unit = models.CharField(_("unit"), max_length=10, choices=UnitChoices.choices, editable=False)
    window_minutes = models.PositiveIntegerField(
        _("window (minutes)"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_MINUTES)],
    )
    level = models.CharField(
        _("level"), max_length=10, choices=Level.choices, default=Level.WARNING
    )
    cooldown_minutes = models.PositiveIntegerField(
        _("cooldown (minutes)"),
        default=30,
        validators=[MaxValueValidator(MAX_WINDOW_MINUTES)],
        help_text=_("After an alert of this rule is resolved, no new alert for this long."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    auto_resolve = models.BooleanField(
        _("auto-resolve"),
        default=True,
        help_text=_("Resolve the open alert when the condition no longer holds."),
    )
    last_evaluated_at = models.DateTimeField(_("last evaluated at"), null=True, blank=True)
    last_value = models.FloatField(_("last value"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("alert rule")
        verbose_name_plural = _("alert rules")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="alertrule_unique_name"),
            models.CheckConstraint(
                condition=Q(window_minutes__gte=1), name="alertrule_window_positive"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "enabled"], name="alertrule_enabled")]

    def __str__(self) -> str:
        return self.name


class Alert(TenantOwnedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    class Source(models.TextChoices):
        RULE = "rule", _("Rule")
        MANUAL = "manual", _("Manual")

    OPEN_STATUSES = (Status.ACTIVE, Status.ACKNOWLEDGED)

    rule = models.ForeignKey(
        AlertRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("rule"),
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    title = models.CharField(_("title"), max_length=200)
    message = models.TextField(_("message"), max_length=4000)
    metric = models.CharField(_("metric"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=10, choices=UnitChoices.choices, blank=True)
    comparison = models.CharField(
        _("comparison"), max_length=3, choices=Comparison.choices, blank=True
    )
    value = models.FloatField(_("measured value"), null=True, blank=True)
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen at"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen at"), default=timezone.now)
    count = models.PositiveIntegerField(_("count"), default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
        help_text=_("Empty for alerts resolved automatically."),
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.TextField(_("resolution note"), max_length=2000, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            # One open alert per rule: a rule that keeps firing updates it.
            models.UniqueConstraint(
                fields=["rule"],
                condition=Q(status__in=["active", "acknowledged"]),
                name="alert_one_open_per_rule",
            ),
            models.CheckConstraint(
                condition=Q(source="manual") | Q(metric__gt=""), name="alert_rule_has_metric"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "-last_seen_at"], name="alert_status_seen"),
            models.Index(fields=["tenant", "-last_seen_at", "-id"], name="alert_tenant_seen"),
            models.Index(fields=["rule", "-resolved_at"], name="alert_rule_resolved"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def in_unit(self, value: float | None) -> str | None:
        """`value` (the alert's value or threshold) for people, in the alert's unit.

        None when there is no value or no unit (manual alerts have neither).
        """
        if value is None or not self.unit:
            return None
        return Unit(self.unit).format(value)


class AlertNotification(TenantOwnedModel):
    """One notification of an alert event through one notifier (the in-app inbox is these)."""

    class Event(models.TextChoices):
        OPENED = "opened", _("Opened")
        RESOLVED = "resolved", _("Resolved")

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("alert")
    )
    event = models.CharField(_("event"), max_length=10, choices=Event.choices)
    channel = models.CharField(_("channel"), max_length=20)
    message = models.TextField(_("message"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("alert notification")
        verbose_name_plural = _("alert notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="alertnotif_tenant_created")]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} {self.alert_id}"


class SchedulerChain(models.Model):
    """The one live chain of the periodic evaluation task (platform-wide, not per tenant).

    Starting the scheduler writes a fresh token; a queued run whose token is not the
    current one ends without re-enqueueing, so at most one chain keeps running.
    """

    name = models.CharField(_("name"), max_length=50, unique=True)
    token = models.CharField(_("token"), max_length=64)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    last_run_at = models.DateTimeField(_("last run at"), null=True, blank=True)

    class Meta:
        verbose_name = _("scheduler chain")
        verbose_name_plural = _("scheduler chains")

    def __str__(self) -> str:
        return self.name
