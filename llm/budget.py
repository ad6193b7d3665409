"""Monthly LLM budgets per tenant: usage against the budget, and the optional hard stop.

A tenant's budget is `budget.monthly_tokens` and/or `budget.monthly_cost` (CNY), from the
section's defaults or the tenant's entry in `budget.tenants`; 0 means no limit. Usage is
the tenant's LLM calls of the current calendar month in the tenant's time zone.

The month's usage is cached per tenant and month (so a new month starts from zero by
itself). Each recorded call adds its tokens and cost to the cached totals
(`budget_usage_add`, called by `llm.services.llm_call_record` once the call's row is
committed); a total missing from the cache is summed from the call records again. The
cache entries also expire after USAGE_CACHE_SECONDS, which bounds how long a call recorded
while a total was being recomputed can be missing from it. The cache is
`helpdesk.rate_limits.resilient_cache`: while the shared cache is down, the totals are
kept in the process's memory, so neither recording a call nor the hard stop fails.

For the message pipeline: `budget_exhausted()` is True when the active tenant's hard stop
is on and its budget is spent; `budget_stop_reason()` tells staff why.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from helpdesk.config import get_config
from helpdesk.rate_limits import resilient_cache
from helpdesk.tenancy import current_tenant
from llm.models import LLMCall
from llm.selectors import token_cost_sums

USAGE_CACHE_SECONDS = 300
MICRO = Decimal("0.000001")
_TOKENS_KEY = "llm:budget:tokens:{tenant_id}:{month}"
_COST_KEY = "llm:budget:cost-micro:{tenant_id}:{month}"


@dataclass(frozen=True)
class Budget:
    monthly_tokens: int
    monthly_cost: Decimal
    hard_stop: bool

    @property
    def limited(self) -> bool:
        return self.monthly_tokens > 0 or self.monthly_cost > 0


@dataclass(frozen=True)
class BudgetState:
    budget: Budget
    month: date  # the first day of the month
    tokens_used: int
    cost_used: Decimal

    @property
    def token_share(self) -> float | None:
        if not self.budget.monthly_tokens:
            return None
        return self.tokens_used / self.budget.monthly_tokens

    @property
    def cost_share(self) -> float | None:
        if not self.budget.monthly_cost:
            return None
        return float(self.cost_used / self.budget.monthly_cost)

    @property
    def used_share(self) -> float | None:
        """The larger of the token and cost shares used (1.0: spent); None without budget."""
        shares = [s for s in (self.token_share, self.cost_share) if s is not None]
        return max(shares) if shares else None

    @property
    def spent(self) -> bool:
        return (self.used_share or 0) >= 1

    @property
    def stopped(self) -> bool:
        """The hard stop is on and the budget is spent: knowledge-base-only answers."""
        return self.budget.hard_stop and self.spent


def tenant_budget(tenant: Any) -> Budget:
    config = get_config()
    override = config.get("budget.tenants").get(tenant.slug, {})
    return Budget(
        monthly_tokens=int(override.get("monthly_tokens", config.get("budget.monthly_tokens"))),
        monthly_cost=Decimal(str(override.get("monthly_cost", config.get("budget.monthly_cost")))),
        hard_stop=bool(override.get("hard_stop", config.get("budget.hard_stop"))),
    )


def month_of(tenant: Any, moment: datetime | None = None) -> date:
    return timezone.localtime(moment or timezone.now(), tenant.zone).date().replace(day=1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _keys(tenant_id: int, month: date) -> tuple[str, str]:
    label = month.strftime("%Y-%m")
    return (
        _TOKENS_KEY.format(tenant_id=tenant_id, month=label),
        _COST_KEY.format(tenant_id=tenant_id, month=label),
    )


def _summed_usage(tenant: Any, month: date) -> tuple[int, int]:
    """(tokens, cost in micro-CNY) of the active tenant's calls in `month`, from the records."""
    start = datetime.combine(month, time.min, tzinfo=tenant.zone)
    end = datetime.combine(_next_month(month), time.min, tzinfo=tenant.zone)
    totals = LLMCall.objects.filter(created_at__gte=start, created_at__lt=end).aggregate(
        **token_cost_sums()
    )
    return totals["prompt_tokens"] + totals["completion_tokens"], int(totals["cost"] / MICRO)


def month_usage(tenant: Any, month: date) -> tuple[int, Decimal]:
    """(tokens, cost) of the active tenant's LLM calls in `month`, cached."""
    tokens_key, cost_key = _keys(tenant.pk, month)
    cached = resilient_cache.get_many([tokens_key, cost_key])
    if len(cached) == 2:
        tokens, cost_micro = cached[tokens_key], cached[cost_key]
    else:
        tokens, cost_micro = _summed_usage(tenant, month)
        for key, value in ((tokens_key, tokens), (cost_key, cost_micro)):
            resilient_cache.set(key, value, USAGE_CACHE_SECONDS)
    return tokens, Decimal(cost_micro) * MICRO


def budget_state(moment: datetime | None = None) -> BudgetState:
    """The active tenant's budget and its usage in the month of `moment` (default: now)."""
    tenant = current_tenant()
    month = month_of(tenant, moment)
    tokens, cost = month_usage(tenant, month)
    return BudgetState(
        budget=tenant_budget(tenant), month=month, tokens_used=tokens, cost_used=cost
    )


def budget_exhausted() -> bool:
    """True when the active tenant's hard stop is on and its monthly budget is spent.

    Without a hard stop or a budget this reads no cache and no database.
    """
    tenant = current_tenant()
    budget = tenant_budget(tenant)
    if not (budget.hard_stop and budget.limited):
        return False
    return budget_state().stopped


def budget_stop_reason(state: BudgetState | None = None) -> str:
    """For staff: why the assistant answers from the knowledge base only ("" when it
    does not stop)."""
    state = state or budget_state()
    if not state.stopped:
        return ""
    return _(
        "The monthly LLM budget is spent (%(tokens)s tokens, ¥%(cost)s used this month), so "
        "the assistant answers from the knowledge base only until %(next)s or until the budget "
        "is raised (budget.tenants or budget.monthly_* in the configuration)."
    ) % {
        "tokens": formats.number_format(state.tokens_used, force_grouping=True),
        "cost": f"{state.cost_used:.2f}",
        "next": formats.date_format(_next_month(state.month), "SHORT_DATE_FORMAT"),
    }


def budget_usage_add(*, tenant: Any, created_at: datetime, tokens: int, cost: Decimal) -> None:
    """Add a recorded call to its month's cached usage (a missing total is left to be summed)."""
    tokens_key, cost_key = _keys(tenant.pk, month_of(tenant, created_at))
    for key, amount in ((tokens_key, tokens), (cost_key, int(cost / MICRO))):
        # Not cached (ValueError): the next read sums the records, this call included.
        with contextlib.suppress(ValueError):
            resilient_cache.incr(key, amount)
