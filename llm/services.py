"""Writes of the llm app."""

from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction

from llm.budget import budget_usage_add
from llm.models import LLMCall


def llm_call_build(
    *,
    purpose: str,
    model: str,
    stream: bool,
    prompt_tokens: int,
    completion_tokens: int,
    usage_reported: bool,
    cost: Decimal,
    latency_ms: int,
    first_token_ms: int | None,
    attempts: int,
    outcome: str,
    error_type: str,
    status_code: int | None,
) -> LLMCall:
    """An unsaved record of one LLM call in the active tenant."""
    call = LLMCall(
        purpose=purpose,
        model=model[:200],
        stream=stream,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        usage_reported=usage_reported,
        cost=cost,
        latency_ms=latency_ms,
        first_token_ms=first_token_ms,
        attempts=attempts,
        outcome=outcome,
        error_type=error_type,
        status_code=status_code,
    )
    call.assign_tenant_from_scope()
    return call


def llm_call_record(**fields: Any) -> LLMCall:
    """Record one LLM call in the active tenant (`llm.recording` calls this for every call).

    Once the row is committed, its tokens and cost count in the tenant's monthly budget.
    """
    call = llm_call_build(**fields)
    call.save()
    transaction.on_commit(
        partial(
            budget_usage_add,
            tenant=call.tenant,
            created_at=call.created_at,
            tokens=call.prompt_tokens + call.completion_tokens,
            cost=call.cost,
        ),
        robust=True,
    )
    return call
