"""Bitable (多维表格) work-order sync: per-table configuration, record links, sync runs."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feishu.bitable import mapping
from feishu.models.channel import FeishuApp
from helpdesk.tenancy import TenantOwnedModel


class BitableSync(TenantOwnedModel):
    """One Bitable table mirrored into work orders.

    `field_mapping` maps a column name to a work-order field (see feishu.bitable.mapping);
    `status_map` / `priority_map` map the table's option values to local values.
    """

    app = models.ForeignKey(FeishuApp, on_delete=models.CASCADE, related_name="bitable_syncs")
    name = models.CharField(_("name"), max_length=100)
    app_token = models.CharField(_("Bitable app token"), max_length=64)
    table_id = models.CharField(_("table id"), max_length=64)
    field_mapping = models.JSONField(
        _("field mapping"),
        default=mapping.default_field_mapping,
        help_text=_("Column name → work-order field. The default is the TR table's columns."),
    )
    status_map = models.JSONField(
        _("status values"),
        default=mapping.default_status_map,
        help_text=_(
            "Table value → work-order status (open, in_progress, pending, resolved, closed)."
        ),
    )
    priority_map = models.JSONField(
        _("priority values"),
        default=mapping.default_priority_map,
        help_text=_("Table value → work-order priority (low, medium, high, urgent)."),
    )
    modified_time_column = models.CharField(
        _("modified-time column"),
        max_length=100,
        default="最后更新时间",
        help_text=_("A “last modified time” column of the table, used to pull only changed rows."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    push_enabled = models.BooleanField(_("write local changes back"), default=True)
    interval_minutes = models.PositiveIntegerField(
        _("pull every (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
    )
    watermark_ms = models.BigIntegerField(
        _("newest modified time pulled (ms)"), null=True, blank=True, editable=False
    )
    last_pull_at = models.DateTimeField(_("last pull"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("Bitable sync")
        verbose_name_plural = _("Bitable syncs")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "app_token", "table_id"], name="feishu_bitable_one_sync"
            )
        ]

    def __str__(self) -> str:
        return self.name


class BitableRecordLink(TenantOwnedModel):
    """A work order mirrored from a Bitable record, and what both sides looked like at the
    last sync (to tell who changed since)."""

    sync = models.ForeignKey(BitableSync, on_delete=models.CASCADE, related_name="links")
    work_order = models.OneToOneField(
        "workorders.WorkOrder",
        on_delete=models.CASCADE,
        related_name="bitable_link",
        verbose_name=_("work order"),
    )
    record_id = models.CharField(_("record id"), max_length=64)
    external_number = models.CharField(_("external number"), max_length=64, blank=True)
    remote_modified_ms = models.BigIntegerField(_("record modified time (ms)"), default=0)
    synced_values = models.JSONField(_("mapped values at the last sync"), default=dict, blank=True)
    synced_at = models.DateTimeField(_("last synced"), default=timezone.now)
    suggestion_log = models.TextField(_("AI suggestion log"), blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("Bitable record link")
        verbose_name_plural = _("Bitable record links")
        constraints = [
            models.UniqueConstraint(fields=["sync", "record_id"], name="feishu_bitable_record_once")
        ]

    def __str__(self) -> str:
        return self.external_number or self.record_id


class BitableSyncRun(TenantOwnedModel):
    """The log of one pull, push or AI-suggestion write-back, with each row's outcome."""

    class Kind(models.TextChoices):
        PULL = "pull", _("Pull")
        PUSH = "push", _("Push")
        SUGGESTION = "suggestion", _("AI suggestion write-back")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        REFUSED = "refused", _("Refused")
        FAILED = "failed", _("Failed")

    sync = models.ForeignKey(BitableSync, on_delete=models.CASCADE, related_name="runs")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    full = models.BooleanField(_("full pull"), default=False)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    problems = models.JSONField(
        _("rows skipped or failed, with the reason"), default=list, blank=True
    )
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("Bitable sync run")
        verbose_name_plural = _("Bitable sync runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"
