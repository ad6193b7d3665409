from typing import Any

from helpdesk.config_schema import ConfigError, ConfigKey, OutboundURLKey


class PricesKey(ConfigKey):
    """`llm.prices`: {"model" or "*": {"input": n, "output": n}}, non-negative numbers."""

    def coerce(self, value: Any) -> Any:
        value = super().coerce(value)
        for model, price in value.items():
            if not isinstance(price, dict) or set(price) - {"input", "output"}:
                raise ConfigError(self.key, f'{model}: expected {{"input": n, "output": n}}')
            for side, amount in price.items():
                if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 0:
                    raise ConfigError(self.key, f"{model}.{side} must be a number >= 0")
        return value


KEYS = [
    OutboundURLKey(
        "llm.base_url",
        str,
        "",
        "Base URL of an OpenAI-compatible API, e.g. https://api.deepseek.com/v1. "
        "Empty: knowledge-base-only mode.",
    ),
    ConfigKey("llm.api_key", str, "", "API key of the LLM provider.", secret=True),
    ConfigKey("llm.model", str, "qwen-plus", "Model name sent to the provider."),
    ConfigKey("llm.temperature", float, 0.3, "Sampling temperature.", min_value=0, max_value=2),
    ConfigKey("llm.max_tokens", int, 1024, "Upper bound of completion tokens.", min_value=1),
    ConfigKey(
        "llm.timeout_seconds",
        float,
        30.0,
        "Deadline of one LLM call, retries included.",
        min_value=0.1,
        max_value=600,
    ),
    ConfigKey(
        "llm.first_token_timeout_seconds",
        float,
        15.0,
        "Longest wait for the first streamed token.",
        min_value=0.1,
        max_value=600,
    ),
    ConfigKey(
        "llm.max_retries",
        int,
        2,
        "Retries on 408, 409, 429, 5xx and refused connections, within the deadline.",
        min_value=0,
        max_value=10,
    ),
    PricesKey(
        "llm.prices",
        dict,
        {},
        'Prices in CNY per 1,000 tokens by model: {"qwen-plus": {"input": 0.0008, '
        '"output": 0.002}}; "*" prices every other model. Unpriced models cost 0.',
    ),
]
