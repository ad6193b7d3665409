"""Monthly LLM budgets: a default for every tenant and per-tenant overrides by slug."""

from typing import Any

from helpdesk.config_schema import ConfigError, ConfigKey

TENANT_BUDGET_FIELDS = {"monthly_tokens": int, "monthly_cost": float, "hard_stop": bool}


class TenantBudgetsKey(ConfigKey):
    """`budget.tenants`: {"<tenant slug>": {"monthly_tokens": n, "monthly_cost": x,
    "hard_stop": bool}}; a field left out takes the section's default."""

    def coerce(self, value: Any) -> Any:
        value = super().coerce(value)
        for slug, budget in value.items():
            if not isinstance(budget, dict) or set(budget) - set(TENANT_BUDGET_FIELDS):
                raise ConfigError(
                    self.key, f"{slug}: expected an object with {sorted(TENANT_BUDGET_FIELDS)}"
                )
            for name, amount in budget.items():
                if TENANT_BUDGET_FIELDS[name] is bool:
                    if not isinstance(amount, bool):
                        raise ConfigError(self.key, f"{slug}.{name} must be true or false")
                elif isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
                    raise ConfigError(self.key, f"{slug}.{name} must be a number >= 0")
        return value


KEYS = [
    ConfigKey(
        "budget.monthly_tokens",
        int,
        0,
        "LLM tokens (prompt + completion) a tenant may use per calendar month; 0: no limit.",
        min_value=0,
    ),
    ConfigKey(
        "budget.monthly_cost",
        float,
        0.0,
        "LLM cost in CNY a tenant may spend per calendar month (see llm.prices); 0: no limit.",
        min_value=0,
    ),
    ConfigKey(
        "budget.hard_stop",
        bool,
        False,
        "When a tenant's budget is spent, the assistant answers from the knowledge base only "
        "until the month ends or the budget is raised.",
    ),
    TenantBudgetsKey(
        "budget.tenants",
        dict,
        {},
        'Per-tenant budgets by tenant slug: {"acme": {"monthly_tokens": 2000000, '
        '"monthly_cost": 500, "hard_stop": true}}; a field left out takes the default above.',
    ),
]
