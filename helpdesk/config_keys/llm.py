from helpdesk.config import ConfigKey

KEYS = [
    ConfigKey(
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
    ConfigKey("llm.timeout_seconds", float, 30.0, "Timeout of one LLM call.", min_value=0.1),
    ConfigKey(
        "llm.first_token_timeout_seconds",
        float,
        15.0,
        "Longest wait for the first streamed token.",
        min_value=0.1,
    ),
    ConfigKey("llm.max_retries", int, 2, "Retries on timeouts, 429 and 5xx.", min_value=0),
    ConfigKey(
        "llm.prices",
        dict,
        {},
        'Prices per 1,000 tokens by model: {"model": {"input": 0.002, "output": 0.006}} (CNY).',
    ),
]
