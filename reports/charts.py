"""The dashboard's charts of a period: series per day and breakdowns, ready for JSON.

Labels of choices (statuses, priorities, purposes, alert levels) are translated here, in
the language of the request.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from alerts.models import Alert, Level
from llm.choices import Purpose
from reports.daily import DailyNumbers
from reports.periods import Period
from reports.workorder_stats import workorder_breakdowns_and_sla
from workorders.models import WorkOrder

CHOICE_LABELS = {
    "status": WorkOrder.Status,
    "priority": WorkOrder.Priority,
}


def choice_label(choices: Any, key: str) -> str:
    """The label of `key` among `choices` (a TextChoices), or the key itself if unknown."""
    try:
        return str(choices(key).label)
    except ValueError:
        return key


def _per_day(days: list[date], values: dict[date, Any]) -> list[Any]:
    return [values.get(day) for day in days]


def _cost_series(numbers: DailyNumbers, days: list[date], key: str) -> list[dict[str, Any]]:
    by_key: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in numbers.usage:
        by_key[row[key]][row["day"]] += row["cost"]
    series = []
    for name, values in sorted(by_key.items()):
        label = choice_label(Purpose, name) if key == "purpose" else (name or _("(unknown)"))
        series.append(
            {"key": name, "label": label, "data": [float(values.get(d, 0)) for d in days]}
        )
    return series


def _alert_series(period: Period, days: list[date]) -> list[dict[str, Any]]:
    counts: dict[str, dict[date, int]] = defaultdict(dict)
    rows = (
        Alert.objects.filter(first_seen_at__gte=period.since, first_seen_at__lt=period.until)
        .annotate(day=TruncDate("first_seen_at", tzinfo=period.zone))
        .order_by()
        .values("day", "level")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["level"]][row["day"]] = row["n"]
    return [
        {"key": level, "label": str(label), "data": [counts[level].get(d, 0) for d in days]}
        for level, label in Level.choices
        if level in counts
    ]


def _breakdown(name: str, counts: dict[str, int]) -> list[dict[str, Any]]:
    choices = CHOICE_LABELS.get(name)
    return [
        {
            "key": key,
            "label": choice_label(choices, key) if choices else (key or _("(none)")),
            "count": count,
        }
        for key, count in counts.items()
    ]


def chart_data(period: Period, numbers: DailyNumbers) -> dict[str, Any]:
    days = sorted(numbers.activity)
    activity = numbers.activity
    ratings = {
        d: activity[d]["rating_sum"] / activity[d]["rated_conversations"]
        for d in days
        if activity[d]["rated_conversations"]
    }
    thumbs = {
        d: activity[d]["thumbs_up"] / (activity[d]["thumbs_up"] + activity[d]["thumbs_down"])
        for d in days
        if activity[d]["thumbs_up"] + activity[d]["thumbs_down"]
    }
    breakdowns, sla = workorder_breakdowns_and_sla(period)
    return {
        "days": [d.isoformat() for d in days],
        "conversations": [activity[d]["conversations"] for d in days],
        "handoffs": [activity[d]["handed_off"] for d in days],
        "rating": _per_day(days, ratings),
        "thumbs_up_rate": _per_day(days, thumbs),
        "cost_by_model": _cost_series(numbers, days, "model"),
        "cost_by_purpose": _cost_series(numbers, days, "purpose"),
        "alerts": _alert_series(period, days),
        "workorders": {name: _breakdown(name, counts) for name, counts in breakdowns.items()},
        "sla": [
            {"key": key, "label": choice_label(WorkOrder.Priority, key), **sla[key]}
            for key in WorkOrder.Priority.values
            if key in sla
        ],
    }
