"""The whole report of a period for the active tenant: what the dashboard, the API and the
exports show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from llm.budget import budget_state, budget_stop_reason
from reports.charts import chart_data
from reports.counters import COUNTERS, counters_with_previous
from reports.daily import DailyNumbers, daily_numbers_of
from reports.periods import Period
from reports.unanswered import unanswered_groups


@dataclass(frozen=True)
class Report:
    tenant: Any
    period: Period
    numbers: DailyNumbers
    counters: dict[str, dict[str, Any]]
    charts: dict[str, Any]
    unanswered: list[dict[str, Any]]
    budget: dict[str, Any]


def budget_summary() -> dict[str, Any]:
    """This month's LLM usage against the active tenant's budget."""
    state = budget_state()
    return {
        "month": state.month.strftime("%Y-%m"),
        "tokens_used": state.tokens_used,
        "cost_used": float(state.cost_used),
        "monthly_tokens": state.budget.monthly_tokens,
        "monthly_cost": float(state.budget.monthly_cost),
        "token_share": state.token_share,
        "cost_share": state.cost_share,
        "hard_stop": state.budget.hard_stop,
        "stopped": state.stopped,
        "reason": budget_stop_reason(state),
    }


def period_report(*, tenant: Any, period: Period, unanswered_limit: int | None = None) -> Report:
    numbers = daily_numbers_of([period, period.previous()])
    return Report(
        tenant=tenant,
        period=period,
        numbers=numbers[0],
        counters=counters_with_previous(period, numbers),
        charts=chart_data(period, numbers[0]),
        unanswered=unanswered_groups(period.since, period.until, limit=unanswered_limit),
        budget=budget_summary(),
    )


def period_info(tenant: Any, period: Period) -> dict[str, Any]:
    previous = period.previous()
    return {
        "tenant": tenant.slug,
        "tenant_name": tenant.name,
        "time_zone": period.zone.key,
        "start": period.start,
        "end": period.end,
        "since": period.since,
        "until": period.until,
        "previous_start": previous.start,
        "previous_end": previous.end,
        "previous_until": previous.until,
    }


def report_payload(report: Report) -> dict[str, Any]:
    """The dashboard's JSON: the period, labelled counters, charts, questions and budget."""
    counters = [
        {
            "name": spec.name,
            "label": str(spec.label),
            "group": spec.group,
            **report.counters[spec.name],
        }
        for spec in COUNTERS
    ]
    return {
        "period": period_info(report.tenant, report.period),
        "counters": counters,
        "charts": report.charts,
        "unanswered": report.unanswered,
        "budget": report.budget,
    }
