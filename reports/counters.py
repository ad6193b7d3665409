"""The dashboard's counters for a period, each with the previous period's value.

Ratios are 0..1 and None when there is nothing to divide by; durations are seconds;
cost is CNY.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from reports.daily import DailyNumbers, daily_numbers_of
from reports.periods import Period
from reports.rollups import ACTIVITY_FIELDS
from reports.workorder_stats import workorder_counters


@dataclass(frozen=True)
class CounterSpec:
    name: str
    unit: str  # count, ratio, score, seconds, cny
    label: Promise
    group: str  # a key of COUNTER_GROUPS: where the dashboard shows it


COUNTER_GROUPS = {
    "assistant": _("Conversations and the assistant"),
    "satisfaction": _("Satisfaction"),
    "workorders": _("Work orders"),
    "llm": _("LLM usage"),
}

COUNTERS = (
    CounterSpec("conversations", "count", _("Conversations"), "assistant"),
    CounterSpec(
        "answered_without_handoff_rate",
        "ratio",
        _("Answered by the assistant without hand-off"),
        "assistant",
    ),
    CounterSpec("handoff_rate", "ratio", _("Hand-off rate"), "assistant"),
    CounterSpec("knowledge_hit_rate", "ratio", _("Knowledge hit rate"), "assistant"),
    CounterSpec("low_confidence_rate", "ratio", _("Low-confidence rate"), "assistant"),
    CounterSpec("satisfaction_avg", "score", _("Average rating (1-5)"), "satisfaction"),
    CounterSpec("thumbs_up_rate", "ratio", _("Thumbs-up share"), "satisfaction"),
    CounterSpec("workorders_opened", "count", _("Work orders opened"), "workorders"),
    CounterSpec("workorders_resolved", "count", _("Work orders resolved"), "workorders"),
    CounterSpec("workorders_overdue", "count", _("Work orders overdue"), "workorders"),
    CounterSpec(
        "first_response_median_seconds", "seconds", _("Median first response"), "workorders"
    ),
    CounterSpec("resolution_median_seconds", "seconds", _("Median resolution time"), "workorders"),
    CounterSpec("llm_calls", "count", _("LLM calls"), "llm"),
    CounterSpec("llm_tokens", "count", _("LLM tokens"), "llm"),
    CounterSpec("llm_cost", "cny", _("LLM cost (CNY)"), "llm"),
)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def activity_totals(numbers: DailyNumbers) -> dict[str, int]:
    totals = dict.fromkeys(ACTIVITY_FIELDS, 0)
    for day in numbers.activity.values():
        for name in ACTIVITY_FIELDS:
            totals[name] += day[name]
    return totals


def usage_totals(numbers: DailyNumbers) -> dict[str, Any]:
    return {
        "calls": sum(row["calls"] for row in numbers.usage),
        "tokens": sum(row["prompt_tokens"] + row["completion_tokens"] for row in numbers.usage),
        "cost": sum((row["cost"] for row in numbers.usage), Decimal(0)),
    }


def counter_values(numbers: DailyNumbers, workorders: dict[str, Any]) -> dict[str, Any]:
    activity = activity_totals(numbers)
    usage = usage_totals(numbers)
    thumbs = activity["thumbs_up"] + activity["thumbs_down"]
    return {
        "conversations": activity["conversations"],
        "answered_without_handoff_rate": _ratio(
            activity["answered_without_handoff"], activity["conversations"]
        ),
        "handoff_rate": _ratio(activity["handed_off"], activity["conversations"]),
        "knowledge_hit_rate": _ratio(activity["knowledge_hits"], activity["answers"]),
        "low_confidence_rate": _ratio(activity["low_confidence"], activity["answers"]),
        "satisfaction_avg": _ratio(activity["rating_sum"], activity["rated_conversations"]),
        "thumbs_up_rate": _ratio(activity["thumbs_up"], thumbs),
        **workorders,
        "llm_calls": usage["calls"],
        "llm_tokens": usage["tokens"],
        "llm_cost": float(usage["cost"]),
    }


def compare(current: dict[str, Any], previous: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each counter with its previous value, the difference and the relative change."""
    table = {}
    for spec in COUNTERS:
        value, before = current[spec.name], previous[spec.name]
        delta = None if value is None or before is None else value - before
        table[spec.name] = {
            "value": value,
            "previous": before,
            "delta": delta,
            "relative_change": delta / before if delta is not None and before else None,
            "unit": spec.unit,
        }
    return table


def counters_with_previous(
    period: Period, numbers: Sequence[DailyNumbers] | None = None
) -> dict[str, dict[str, Any]]:
    """The counters of `period` and of the previous period; `numbers` are both periods'
    daily numbers (`daily_numbers_of([period, period.previous()])`) when the caller has them."""
    before = period.previous()
    current, previous = numbers or daily_numbers_of([period, before])
    workorders_current, workorders_previous = workorder_counters(period, before)
    return compare(
        counter_values(current, workorders_current),
        counter_values(previous, workorders_previous),
    )
