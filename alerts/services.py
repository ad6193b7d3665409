"""Writes on alert rules and alerts. Evaluation lives in alerts/evaluation.py."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant, User
from alerts.models import (
    Alert,
    AlertNotification,
    AlertRule,
    Comparison,
    Level,
)
from alerts.notifiers import notify_all
from alerts.registry import Unit, UnknownMetric, get_metric
from helpdesk.tenancy import tenant_scope

logger = logging.getLogger(__name__)

RULE_FIELDS = (
    "name",
    "description",
    "metric",
    "comparison",
    "threshold",
    "window_minutes",
    "level",
    "cooldown_minutes",
    "enabled",
    "auto_resolve",
)
MAX_NOTE_LENGTH = 2000


def alert_rule_check(*, rule: AlertRule) -> None:
    """Validate an unsaved rule in the active scope; sets its unit from the metric.

    Raises ValidationError naming the field: unknown metric, a threshold that cannot be in
    the metric's unit (a ratio above 1, a negative number), a duplicate name, bad values.
    """
    try:
        metric = get_metric(rule.metric)
    except UnknownMetric:
        raise ValidationError(
            {"metric": _("Unknown metric %(name)s.") % {"name": rule.metric}}, code="invalid"
        ) from None
    rule.unit = metric.unit
    rule.assign_tenant_from_scope()
    rule.full_clean(validate_constraints=False)
    try:
        metric.unit.check_threshold(rule.threshold)
    except ValueError as exc:
        raise ValidationError({"threshold": str(exc)}, code="invalid") from None
    if AlertRule.objects.filter(name=rule.name).exclude(pk=rule.pk).exists():
        raise ValidationError(
            {"name": _("A rule with this name already exists.")}, code="duplicate"
        )


def _save_rule(rule: AlertRule) -> AlertRule:
    alert_rule_check(rule=rule)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        # A concurrent save took the name between the check and the insert.
        raise ValidationError(
            {"name": _("A rule with this name already exists.")}, code="duplicate"
        ) from None
    return rule


@transaction.atomic
def alert_rule_create(
    *,
    name: str,
    metric: str,
    comparison: str,
    threshold: float,
    window_minutes: int = 60,
    level: str = Level.WARNING,
    cooldown_minutes: int = 30,
    enabled: bool = True,
    auto_resolve: bool = True,
    description: str = "",
) -> AlertRule:
    rule = AlertRule(
        name=name,
        description=description,
        metric=metric,
        comparison=comparison,
        threshold=threshold,
        window_minutes=window_minutes,
        level=level,
        cooldown_minutes=cooldown_minutes,
        enabled=enabled,
        auto_resolve=auto_resolve,
    )
    return _save_rule(rule)


@transaction.atomic
def alert_rule_update(*, rule: AlertRule, **fields: Any) -> AlertRule:
    unknown = set(fields) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"Not rule fields: {sorted(unknown)}")
    rule = AlertRule.objects.select_for_update().get(pk=rule.pk)
    for field, value in fields.items():
        setattr(rule, field, value)
    return _save_rule(rule)


@transaction.atomic
def alert_rule_delete(*, rule: AlertRule) -> None:
    """Delete the rule; its alerts stay, detached, and open ones are resolved."""
    now = timezone.now()
    rule.alerts.filter(status__in=Alert.OPEN_STATUSES).update(
        status=Alert.Status.RESOLVED,
        resolved_at=now,
        resolution_note=gettext("The rule was deleted."),
    )
    rule.delete()


@dataclass(frozen=True)
class DefaultRule:
    name: Any
    metric: str
    unit: Unit
    comparison: Comparison
    threshold: float
    window_minutes: int
    level: Level
    description: Any


DEFAULT_RULES = (
    DefaultRule(
        pgettext_lazy("alert rule", "Low satisfaction"),
        "workorders.avg_satisfaction",
        Unit.SCORE,
        Comparison.LT,
        3.5,
        24 * 60,
        Level.WARNING,
        _("Average satisfaction of the work orders resolved in the last day is below 3.5."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "Low knowledge hit rate"),
        "dialogue.knowledge_hit_rate",
        Unit.RATIO,
        Comparison.LT,
        0.6,
        60,
        Level.WARNING,
        _("Less than 60 percent of the answers in the last hour cited the knowledge base."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "High LLM error rate"),
        "llm.error_rate",
        Unit.RATIO,
        Comparison.GT,
        0.1,
        15,
        Level.ERROR,
        _("More than 10 percent of the LLM calls in the last 15 minutes failed."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "High LLM latency (p95)"),
        "llm.latency_p95",
        Unit.MILLISECONDS,
        Comparison.GT,
        5000,
        15,
        Level.WARNING,
        _("The 95th percentile of LLM latency in the last 15 minutes is above 5000 ms."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "High token cost per day"),
        "llm.cost_per_day",
        Unit.CNY,
        Comparison.GT,
        100,
        24 * 60,
        Level.WARNING,
        _("LLM spending in the last day is above 100 CNY."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "LLM budget 80 percent used"),
        "llm.budget_used",
        Unit.RATIO,
        Comparison.GTE,
        0.8,
        60,
        Level.WARNING,
        _("At least 80 percent of this month's LLM budget (tokens or cost) is used."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "LLM budget spent"),
        "llm.budget_used",
        Unit.RATIO,
        Comparison.GTE,
        1.0,
        60,
        Level.ERROR,
        _("This month's LLM budget (tokens or cost) is spent."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "Overdue work orders"),
        "workorders.overdue",
        Unit.COUNT,
        Comparison.GT,
        0,
        60,
        Level.WARNING,
        _("At least one unresolved work order is past its due time."),
    ),
    DefaultRule(
        pgettext_lazy("alert rule", "Work-order backlog"),
        "workorders.backlog",
        Unit.COUNT,
        Comparison.GT,
        50,
        60,
        Level.WARNING,
        _("More than 50 work orders are open, in progress or pending."),
    ),
)


def alert_rules_create_defaults(*, tenant: Tenant) -> list[AlertRule]:
    """Create the default rules the tenant does not have yet; idempotent (a metric the tenant
    already has a rule for gets none of its defaults).

    A default whose metric is not registered (its app is not installed) is still created
    with the unit it is written in: the evaluator skips it until the metric exists.
    """
    created: list[AlertRule] = []
    with tenant_scope(tenant), transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        existing_metrics = set(AlertRule.objects.values_list("metric", flat=True))
        existing_names = set(AlertRule.objects.values_list("name", flat=True))
        for default in DEFAULT_RULES:
            name = str(default.name)
            if default.metric in existing_metrics or name in existing_names:
                continue
            try:
                registered_unit = get_metric(default.metric).unit
            except UnknownMetric:
                registered_unit = default.unit
            if registered_unit != default.unit:
                logger.error(
                    "Default rule %s expects %s in %s, but the metric is in %s; not created.",
                    name,
                    default.metric,
                    default.unit,
                    registered_unit,
                )
                continue
            created.append(
                AlertRule.objects.create(
                    name=name,
                    description=str(default.description),
                    metric=default.metric,
                    unit=default.unit,
                    comparison=default.comparison,
                    threshold=default.threshold,
                    window_minutes=default.window_minutes,
                    level=default.level,
                )
            )
    return created


def _check_text(value: Any, field: str, limit: int, *, required: bool) -> str:
    if not isinstance(value, str):
        raise ValidationError({field: _("Must be text.")}, code="invalid")
    value = value.strip()
    if required and not value:
        raise ValidationError({field: _("This field may not be blank.")}, code="blank")
    if len(value) > limit:
        raise ValidationError(
            {field: _("At most %(limit)d characters.") % {"limit": limit}}, code="max_length"
        )
    return value


@transaction.atomic
def alert_create_manual(*, title: str, message: str, level: str, actor: User | None) -> Alert:
    """An alert raised by a person (or another system through the API)."""
    if level not in Level.values:
        raise ValidationError({"level": _("Unknown level %(level)s.") % {"level": level}})
    now = timezone.now()
    alert = Alert(
        source=Alert.Source.MANUAL,
        level=level,
        title=_check_text(title, "title", 200, required=True),
        message=_check_text(message, "message", 4000, required=False),
        created_by=actor,
        first_seen_at=now,
        last_seen_at=now,
    )
    alert.save()
    notify_all(alert=alert, event=AlertNotification.Event.OPENED, message=alert.message)
    return alert


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update().get(pk=alert.pk)


@transaction.atomic
def alert_acknowledge(*, alert: Alert, actor: User) -> Alert:
    alert = _locked(alert)
    if alert.status != Alert.Status.ACTIVE:
        raise ValidationError(
            {
                "status": _("Only an active alert can be acknowledged; this one is %(status)s.")
                % {"status": alert.get_status_display()}
            },
            code="invalid_status",
        )
    alert.status = Alert.Status.ACKNOWLEDGED
    alert.acknowledged_by = actor
    alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    return alert


@transaction.atomic
def alert_resolve(*, alert: Alert, actor: User | None, note: str = "") -> Alert:
    """Resolve an open alert. `actor` None means it was resolved automatically."""
    note = _check_text(note, "note", MAX_NOTE_LENGTH, required=False)
    alert = _locked(alert)
    if not alert.is_open:
        raise ValidationError(
            {"status": _("This alert is already resolved.")}, code="invalid_status"
        )
    alert.status = Alert.Status.RESOLVED
    alert.resolved_by = actor
    alert.resolved_at = timezone.now()
    alert.resolution_note = note
    alert.save(update_fields=["status", "resolved_by", "resolved_at", "resolution_note"])
    message = note or gettext("The alert %(title)s was resolved.") % {"title": alert.title}
    notify_all(alert=alert, event=AlertNotification.Event.RESOLVED, message=message)
    return alert
