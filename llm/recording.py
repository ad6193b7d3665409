"""The record of every LLM call: one `LLMCall` row per call, whatever its outcome.

The client hands the row's fields to a `CallRecorder`, chosen by its caller:
`ORM_RECORDER` (the default) saves through the ORM, with the caller's database
connection, so inside an atomic block the row shares the block's fate;
`NATIVE_RECORDER` inserts from the event loop on the native async PostgreSQL pool
(`helpdesk.async_db`), for the chat stream's hot path where a worker thread per call
would compete with the streams for the GIL.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from asgiref.sync import sync_to_async

from helpdesk import async_db
from helpdesk.db import releasing_connections
from helpdesk.tenancy import current_tenant
from llm.budget import budget_usage_add, tenant_budget
from llm.calls import Call
from llm.choices import ErrorType, Outcome
from llm.errors import LLMError, as_llm_error
from llm.services import llm_call_build, llm_call_record

logger = logging.getLogger(__name__)


class CallRecorder(Protocol):
    def record(self, fields: dict[str, Any]) -> int:
        """Save one call's record in the active tenant; returns its id."""
        ...

    async def arecord(self, fields: dict[str, Any]) -> int: ...


class OrmCallRecorder:
    def record(self, fields: dict[str, Any]) -> int:
        return llm_call_record(**fields).pk

    async def arecord(self, fields: dict[str, Any]) -> int:
        return await sync_to_async(releasing_connections(self.record))(fields)


class NativeCallRecorder(OrmCallRecorder):
    """PostgreSQL only: async records go through `helpdesk.async_db`.

    A tenant with a budget gets the call added to its month's usage at once (in a worker
    thread); without one, the cached usage the dashboard shows catches up within
    `llm.budget.USAGE_CACHE_SECONDS`."""

    async def arecord(self, fields: dict[str, Any]) -> int:
        record = llm_call_build(**fields)
        await async_db.insert(record)
        tenant = current_tenant()
        if tenant_budget(tenant).limited:
            await sync_to_async(budget_usage_add)(
                tenant=tenant,
                created_at=record.created_at,
                tokens=record.prompt_tokens + record.completion_tokens,
                cost=record.cost,
            )
        return record.pk


ORM_RECORDER = OrmCallRecorder()
NATIVE_RECORDER = NativeCallRecorder()


@dataclass(frozen=True)
class Failure:
    outcome: str
    error_type: str
    raised: LLMError | None  # None: re-raise the original exception

    def fields(self, call: Call) -> dict[str, Any]:
        status_code = self.raised.status_code if self.raised else None
        return call.row(self.outcome, self.error_type, status_code)


def failure_of(call: Call, exc: BaseException) -> Failure:
    if isinstance(exc, GeneratorExit | asyncio.CancelledError | KeyboardInterrupt):
        return Failure(Outcome.CANCELLED, "", None)
    error = as_llm_error(exc)
    if error is None:
        logger.exception("LLM call failed unexpectedly (purpose=%s)", call.purpose)
        return Failure(Outcome.ERROR, ErrorType.INTERNAL, None)
    logger.warning(
        "LLM call failed: purpose=%s model=%s error=%s status=%s attempts=%d",
        call.purpose,
        call.model,
        error.error_type,
        error.status_code,
        call.attempts,
    )
    return Failure(Outcome.ERROR, error.error_type, error)


def fail(call: Call, exc: BaseException, recorder: CallRecorder) -> NoReturn:
    """Record the failed call, then raise its typed error (or the original exception)."""
    failure = failure_of(call, exc)
    _reraise(exc, failure, recorder.record(failure.fields(call)))


async def afail(call: Call, exc: BaseException, recorder: CallRecorder) -> NoReturn:
    failure = failure_of(call, exc)
    _reraise(exc, failure, await recorder.arecord(failure.fields(call)))


def _reraise(exc: BaseException, failure: Failure, call_id: int) -> NoReturn:
    if failure.raised is None:
        raise exc
    failure.raised.call_id = call_id
    if failure.raised is exc:
        raise exc
    raise failure.raised from exc
