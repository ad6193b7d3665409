"""Daily rollups of the conversations, answers and LLM calls of complete local days.

A day's rows are computed from the source rows (`reports.rollups`) and replaced while the
day may still change: until `reports.settle_days` after it ended they are recomputed when
older than a few minutes, and a deleted conversation, message or LLM call marks its day
for recomputation. The day still in progress is never stored: it is counted live.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwnedModel


class DailyActivity(TenantOwnedModel):
    """One local day of a tenant's conversations and answers; its presence marks the day
    (and its DailyLLMUsage rows) as computed."""

    day = models.DateField(_("day"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    computed_at = models.DateTimeField(_("computed at"))
    conversations = models.PositiveIntegerField(_("conversations"), default=0)
    handed_off = models.PositiveIntegerField(_("handed off"), default=0)
    answered_without_handoff = models.PositiveIntegerField(
        _("answered without hand-off"), default=0
    )
    rated_conversations = models.PositiveIntegerField(_("rated conversations"), default=0)
    rating_sum = models.PositiveIntegerField(_("sum of ratings"), default=0)
    answers = models.PositiveIntegerField(_("answers"), default=0)
    knowledge_hits = models.PositiveIntegerField(_("answers citing knowledge"), default=0)
    low_confidence = models.PositiveIntegerField(_("low-confidence answers"), default=0)
    failed_answers = models.PositiveIntegerField(_("failed answers"), default=0)
    thumbs_up = models.PositiveIntegerField(_("thumbs up"), default=0)
    thumbs_down = models.PositiveIntegerField(_("thumbs down"), default=0)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("daily activity")
        verbose_name_plural = _("daily activity")
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="reports_activity_day")
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}"


class DailyLLMUsage(TenantOwnedModel):
    """One local day of a tenant's LLM calls of one model and purpose."""

    day = models.DateField(_("day"))
    model = models.CharField(_("model"), max_length=200, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20)
    calls = models.PositiveIntegerField(_("calls"), default=0)
    errors = models.PositiveIntegerField(_("errors"), default=0)
    prompt_tokens = models.PositiveBigIntegerField(_("prompt tokens"), default=0)
    completion_tokens = models.PositiveBigIntegerField(_("completion tokens"), default=0)
    cost = models.DecimalField(
        _("cost (CNY)"), max_digits=16, decimal_places=6, default=Decimal("0")
    )

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("daily LLM usage")
        verbose_name_plural = _("daily LLM usage")
        ordering = ["day", "model", "purpose"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "day", "model", "purpose"], name="reports_llm_usage_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day} {self.model} {self.purpose}"
