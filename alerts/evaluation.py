"""The evaluator: reads the tenant's enabled rules, measures, opens/updates/resolves alerts.

Per rule, inside the tenant's scope:
- the metric is measured over [now - window, now); a metric that is not registered,
  whose unit differs from the rule's, or that raises is logged and recorded on the rule
  (`last_error`), and evaluation goes on with the next rule;
- None (no data) changes nothing;
- the condition holds: the rule's open alert (active or acknowledged) is updated
  (value, last seen, count), or a new one is opened unless the last alert of the rule
  was resolved less than `cooldown_minutes` ago;
- the condition does not hold: the open alert is resolved if the rule auto-resolves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Tenant
from alerts.models import Alert, AlertNotification, AlertRule, Comparison
from alerts.notifiers import notify_all
from alerts.registry import Metric, Unit, UnknownMetric, get_metric
from helpdesk.tenancy import tenant_scope

logger = logging.getLogger(__name__)

COMPARISON_WORDS = {
    Comparison.GT: _("above"),
    Comparison.GTE: _("at or above"),
    Comparison.LT: _("below"),
    Comparison.LTE: _("at or below"),
}


class Outcome(StrEnum):
    FIRED = "fired"
    UPDATED = "updated"
    RESOLVED = "resolved"
    OK = "ok"
    NO_DATA = "no_data"
    COOLDOWN = "cooldown"
    SKIPPED = "skipped"
    ERROR = "error"


@dataclass(frozen=True)
class RuleResult:
    rule_id: int
    outcome: Outcome
    value: float | None = None


def format_window(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def _firing_message(rule: AlertRule, metric: Metric, value: float) -> str:
    unit = Unit(rule.unit)
    return gettext(
        "%(metric)s over the last %(window)s is %(value)s, %(comparison)s the threshold "
        "%(threshold)s."
    ) % {
        "metric": metric.label,
        "window": format_window(rule.window_minutes),
        "value": unit.format(value),
        "comparison": COMPARISON_WORDS[Comparison(rule.comparison)],
        "threshold": unit.format(rule.threshold),
    }


def _cleared_message(rule: AlertRule, metric: Metric, value: float) -> str:
    unit = Unit(rule.unit)
    return gettext(
        "%(metric)s is back to %(value)s (threshold %(threshold)s); resolved automatically."
    ) % {
        "metric": metric.label,
        "value": unit.format(value),
        "threshold": unit.format(rule.threshold),
    }


def _record(rule: AlertRule, now: datetime, value: float | None, error: str = "") -> None:
    AlertRule.objects.filter(pk=rule.pk).update(
        last_evaluated_at=now, last_value=value, last_error=error[:500]
    )


def _in_cooldown(rule: AlertRule, now: datetime) -> bool:
    if not rule.cooldown_minutes:
        return False
    last_resolved = (
        Alert.objects.filter(rule=rule, status=Alert.Status.RESOLVED, resolved_at__isnull=False)
        .order_by("-resolved_at")
        .values_list("resolved_at", flat=True)
        .first()
    )
    return last_resolved is not None and now < last_resolved + timedelta(
        minutes=rule.cooldown_minutes
    )


def _update_open(alert: Alert, rule: AlertRule, message: str, value: float, now: datetime):
    Alert.objects.filter(pk=alert.pk).update(
        value=value,
        threshold=rule.threshold,
        level=rule.level,
        message=message,
        last_seen_at=now,
        count=F("count") + 1,
    )


def _open_alert(rule: AlertRule) -> Alert | None:
    return (
        Alert.objects.select_for_update().filter(rule=rule, status__in=Alert.OPEN_STATUSES).first()
    )


def _apply(rule: AlertRule, metric: Metric, value: float, now: datetime) -> Outcome:
    holds = Comparison(rule.comparison).holds(value, rule.threshold)
    open_alert = _open_alert(rule)
    if holds:
        message = _firing_message(rule, metric, value)
        if open_alert is not None:
            _update_open(open_alert, rule, message, value, now)
            return Outcome.UPDATED
        if _in_cooldown(rule, now):
            return Outcome.COOLDOWN
        alert = Alert(
            rule=rule,
            source=Alert.Source.RULE,
            level=rule.level,
            title=rule.name,
            message=message,
            metric=rule.metric,
            unit=rule.unit,
            comparison=rule.comparison,
            value=value,
            threshold=rule.threshold,
            first_seen_at=now,
            last_seen_at=now,
        )
        try:
            with transaction.atomic():
                alert.save()
        except IntegrityError:
            # Another evaluator opened the rule's alert in the meantime: update that one.
            concurrent = _open_alert(rule)
            if concurrent is None:
                raise
            _update_open(concurrent, rule, message, value, now)
            return Outcome.UPDATED
        notify_all(alert=alert, event=AlertNotification.Event.OPENED, message=message)
        return Outcome.FIRED
    if open_alert is not None and rule.auto_resolve:
        message = _cleared_message(rule, metric, value)
        open_alert.status = Alert.Status.RESOLVED
        open_alert.value = value
        open_alert.resolved_at = now
        open_alert.resolved_by = None
        open_alert.resolution_note = message
        open_alert.save(
            update_fields=["status", "value", "resolved_at", "resolved_by", "resolution_note"]
        )
        notify_all(alert=open_alert, event=AlertNotification.Event.RESOLVED, message=message)
        return Outcome.RESOLVED
    return Outcome.OK


def evaluate_rule(rule: AlertRule, *, tenant: Tenant, now: datetime) -> RuleResult:
    """Evaluate one rule in the active scope; alert messages are in the site language."""
    with translation.override(settings.LANGUAGE_CODE):
        return _evaluate_rule(rule, tenant=tenant, now=now)


def _evaluate_rule(rule: AlertRule, *, tenant: Tenant, now: datetime) -> RuleResult:
    try:
        metric = get_metric(rule.metric)
    except UnknownMetric:
        logger.warning(
            "Alert rule %s (tenant %s): metric %s is not registered; skipped.",
            rule.pk,
            tenant.slug,
            rule.metric,
        )
        _record(
            rule, now, None, gettext("Metric %(name)s is not available.") % {"name": rule.metric}
        )
        return RuleResult(rule.pk, Outcome.SKIPPED)
    if metric.unit != rule.unit:
        logger.error(
            "Alert rule %s (tenant %s): threshold is in %s but metric %s is in %s; skipped.",
            rule.pk,
            tenant.slug,
            rule.unit,
            metric.name,
            metric.unit,
        )
        _record(
            rule,
            now,
            None,
            gettext(
                "The rule's unit %(rule_unit)s differs from the metric's unit %(metric_unit)s; "
                "save the rule again with a threshold in %(metric_unit)s."
            )
            % {"rule_unit": rule.unit, "metric_unit": metric.unit},
        )
        return RuleResult(rule.pk, Outcome.SKIPPED)
    since = now - timedelta(minutes=rule.window_minutes)
    try:
        # A savepoint: a failing query must not poison the rest of the evaluation.
        with transaction.atomic():
            value = metric.measure(tenant=tenant, since=since, until=now)
    except Exception as exc:
        logger.exception(
            "Alert rule %s (tenant %s): metric %s failed.", rule.pk, tenant.slug, metric.name
        )
        # Only the type: the message may carry SQL or addresses, and tenants read last_error.
        error = _("The metric failed (%(error)s); the details are in the server log.")
        _record(rule, now, None, error % {"error": type(exc).__name__})
        return RuleResult(rule.pk, Outcome.ERROR)
    with transaction.atomic():
        _record(rule, now, value)
        if value is None:
            return RuleResult(rule.pk, Outcome.NO_DATA)
        return RuleResult(rule.pk, _apply(rule, metric, value, now), value)


def alerts_evaluate_tenant(*, tenant: Tenant, now: datetime | None = None) -> list[RuleResult]:
    """Evaluate every enabled rule of `tenant` in its scope; one rule's failure is contained."""
    now = now or timezone.now()
    results = []
    with tenant_scope(tenant):
        for rule in AlertRule.objects.filter(enabled=True).order_by("id"):
            try:
                results.append(evaluate_rule(rule, tenant=tenant, now=now))
            except Exception:
                logger.exception(
                    "Alert rule %s (tenant %s) could not be evaluated.", rule.pk, tenant.slug
                )
                results.append(RuleResult(rule.pk, Outcome.ERROR))
    return results


def alerts_evaluate_all(*, now: datetime | None = None) -> dict[str, list[RuleResult]]:
    """Every active tenant, each in its own scope (platform-level iteration over tenants)."""
    report: dict[str, list[RuleResult]] = {}
    for tenant in Tenant.objects.filter(is_active=True).order_by("pk"):
        try:
            report[tenant.slug] = alerts_evaluate_tenant(tenant=tenant, now=now)
        except Exception:
            logger.exception("Alert evaluation failed for tenant %s.", tenant.slug)
    return report


def summarise(results: list[RuleResult]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    return counts
