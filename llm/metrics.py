"""LLM metrics for the alert rules, over the window [since, until) in the tenant's scope.

Latency percentiles count successful calls only; failures are measured by the error
rate (errors / (ok + errors): calls cancelled by the caller, such as a visitor closing
the page, are neither). None means there was nothing to measure.
"""

from datetime import datetime, timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _

from alerts.registry import Unit, metric
from llm.budget import budget_state
from llm.models import LLMCall
from llm.selectors import usage_totals

DAY = timedelta(days=1)


def _totals(since: datetime, until: datetime) -> dict[str, Any]:
    return usage_totals(LLMCall.objects.filter(created_at__gte=since, created_at__lt=until))


@metric("llm.error_rate", unit=Unit.RATIO, label=_("LLM error rate"))
def error_rate(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    return _totals(since, until)["error_rate"]


@metric("llm.latency_p95", unit=Unit.MILLISECONDS, label=_("LLM latency p95"))
def latency_p95(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    return _totals(since, until)["latency_p95_ms"]


@metric("llm.first_token_p95", unit=Unit.MILLISECONDS, label=_("LLM time to first token p95"))
def first_token_p95(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    return _totals(since, until)["first_token_p95_ms"]


@metric("llm.cost_per_day", unit=Unit.CNY, label=_("LLM token cost per day"))
def cost_per_day(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """The cost in the window as a daily rate: cost x (one day / window length).

    A rule over the last hour then compares its spending pace with a daily budget, and a
    rule over exactly one day gets that day's cost.
    """
    if until <= since:
        return None
    cost = _totals(since, until)["cost"]
    return float(cost) * (DAY / (until - since))


@metric("llm.budget_used", unit=Unit.RATIO, label=_("Share of the monthly LLM budget used"))
def budget_used(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """Tokens or cost used in the calendar month of `until` (the tenant's time zone) over the
    monthly budget, whichever share is larger; the window is not used. None without budget."""
    return budget_state(until).used_share
