"""One row per LLM call: what it was for, what it cost, how long it took, how it ended."""

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwnedModel
from llm.choices import ErrorType, Outcome, Purpose


class Percentile(models.Aggregate):
    """Discrete percentile (PERCENTILE_DISC): the smallest value with at least `fraction`
    of the non-null values at or below it. SQLite gets the same function from apps.py."""

    function = "PERCENTILE_DISC"
    name = "Percentile"
    output_field = models.FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra) -> None:
        fraction = float(fraction)
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be between 0 and 1")
        super().__init__(expression, fraction=repr(fraction), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="HELPDESK_PERCENTILE_DISC",
            template="%(function)s(%(expressions)s, %(fraction)s)",
            **extra_context,
        )


class LLMCall(TenantOwnedModel):
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    model = models.CharField(_("model"), max_length=200, blank=True)
    stream = models.BooleanField(_("streamed"), default=False)
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), default=0)
    completion_tokens = models.PositiveIntegerField(_("completion tokens"), default=0)
    usage_reported = models.BooleanField(
        _("usage from the provider"),
        default=True,
        help_text=_("False when the tokens are estimated (the call ended before its usage)."),
    )
    cost = models.DecimalField(
        _("cost (CNY)"), max_digits=14, decimal_places=6, default=Decimal("0")
    )
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    first_token_ms = models.PositiveIntegerField(_("time to first token (ms)"), null=True)
    attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=1, help_text=_("HTTP requests sent (0: refused before sending).")
    )
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    error_type = models.CharField(
        _("error type"), max_length=30, choices=ErrorType.choices, blank=True
    )
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("LLM call")
        verbose_name_plural = _("LLM calls")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="llm_call_tenant_time")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.model} {self.created_at:%Y-%m-%d %H:%M:%S}"
