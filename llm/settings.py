"""One consistent snapshot of the `llm` configuration section."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from helpdesk.config import get_config
from llm.errors import LLMBadConfiguration, LLMNotConfigured

COST_QUANTUM = Decimal("0.000001")
# Sent when no key is configured: keyless local servers (vLLM, Ollama) ignore it.
NO_API_KEY = "EMPTY"


@dataclass(frozen=True)
class LLMSettings:
    base_url: str
    api_key: str = field(repr=False)
    model: str
    temperature: float
    max_tokens: int
    timeout_seconds: float
    first_token_timeout_seconds: float
    max_retries: int
    prices: dict[str, dict[str, float]]

    @classmethod
    def load(cls) -> LLMSettings:
        return cls(**get_config().get_section("llm"))

    @property
    def configured(self) -> bool:
        return bool(self.base_url.strip() and self.model.strip())

    @property
    def fingerprint(self) -> str:
        material = f"{self.base_url}\0{self.api_key}".encode()
        return hashlib.sha256(material).hexdigest()

    def sdk_options(self) -> dict[str, Any]:
        if not self.configured:
            raise LLMNotConfigured("No LLM is configured (llm.base_url and llm.model).")
        parts = urlsplit(self.base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise LLMBadConfiguration("llm.base_url must be an http(s) URL.")
        return {
            "base_url": self.base_url.strip(),
            "api_key": self.api_key or NO_API_KEY,
            "max_retries": 0,
            "timeout": self.timeout_seconds,
        }

    def cost(self, prompt_tokens: int, completion_tokens: int) -> Decimal:
        """Cost in CNY from the prices per 1,000 tokens of the model (or of "*")."""
        price = self.prices.get(self.model) or self.prices.get("*") or {}
        per_thousand = (
            Decimal(str(price.get("input", 0))) * prompt_tokens
            + Decimal(str(price.get("output", 0))) * completion_tokens
        )
        return (per_thousand / 1000).quantize(COST_QUANTUM)
