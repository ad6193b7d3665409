"""Typed LLM failures: each has an `error_type` code and the `call_id` of its record."""

from __future__ import annotations

import json

import httpx2
import openai

from helpdesk.config import ConfigError
from llm.choices import ErrorType


class LLMError(Exception):
    """Base of every LLM failure; `call_id` is the LLMCall row that records it."""

    error_type: str = ErrorType.INTERNAL

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.call_id: int | None = None


class LLMTimeout(LLMError):
    error_type = ErrorType.TIMEOUT


class LLMRateLimited(LLMError):
    error_type = ErrorType.RATE_LIMITED


class LLMProviderError(LLMError):
    """The provider failed (5xx, refused request, unreachable)."""

    error_type = ErrorType.PROVIDER_ERROR


class LLMBadResponse(LLMError):
    """A broken stream or an answer that cannot be read."""

    error_type = ErrorType.BAD_RESPONSE


class LLMNotConfigured(LLMError):
    error_type = ErrorType.NOT_CONFIGURED


class LLMBadConfiguration(LLMError):
    """The configuration is unusable: bad base URL, key refused, unknown model."""

    error_type = ErrorType.BAD_CONFIGURATION


def as_llm_error(exc: BaseException) -> LLMError | None:
    """The typed error for an SDK, network or configuration failure; None for others."""
    match exc:
        case LLMError():
            return exc
        case TimeoutError() | openai.APITimeoutError() | httpx2.TimeoutException():
            return LLMTimeout("The LLM did not answer in time.")
        case openai.RateLimitError():
            return LLMRateLimited("The LLM provider's rate limit was reached.", status_code=429)
        case openai.APIStatusError() if exc.status_code in (401, 403, 404):
            return LLMBadConfiguration(
                f"The LLM provider refused the request (HTTP {exc.status_code}); "
                "check llm.base_url, llm.api_key and llm.model.",
                status_code=exc.status_code,
            )
        case openai.APIStatusError():
            return LLMProviderError(
                f"The LLM provider returned HTTP {exc.status_code}.", status_code=exc.status_code
            )
        case openai.APIConnectionError() if is_refused_connection(exc):
            return LLMProviderError("The LLM provider cannot be reached.")
        case openai.APIConnectionError() | httpx2.TransportError():
            return LLMBadResponse("The LLM response broke off.")
        case openai.APIError() | json.JSONDecodeError():
            return LLMBadResponse("The LLM response cannot be read.")
        case ConfigError():
            return LLMBadConfiguration(f"The llm configuration is invalid: {exc}")
        case openai.OpenAIError():
            return LLMBadConfiguration(f"The LLM client failed: {type(exc).__name__}")
    return None


def is_refused_connection(exc: BaseException) -> bool:
    """The connection was never made: safe to retry, nothing was sent."""
    return isinstance(exc, openai.APIConnectionError) and isinstance(
        exc.__cause__, httpx2.ConnectError
    )
