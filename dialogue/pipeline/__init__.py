"""The MessagePipeline: the one way an entry point talks to the assistant.

An entry point turns what it received into an `IncomingMessage`, chooses its
`TurnStore` (`OrmTurnStore` on any database, `NativeTurnStore` on PostgreSQL and
Redis) and its `Admission`, and calls `prepare` then `stream` or `complete` (or
`answer` for both). Every decision of a turn is in `decisions` (plain functions over
the typed values of `values`), the prompt in `prompt`, the order of the steps in
`turns`. Nothing is kept in process memory: the cache and the database hold all
state, so any process may serve any message of any session.
"""

from dialogue.pipeline.admission import AlreadyAdmitted, VisitorRateAdmission
from dialogue.pipeline.errors import (
    DuplicateInFlight,
    InvalidMessage,
    PipelineError,
    SessionEnded,
    SessionNotFound,
    TooManyRequests,
)
from dialogue.pipeline.native_store import NativeTurnStore
from dialogue.pipeline.orm_store import OrmTurnStore
from dialogue.pipeline.turns import answer, complete, prepare, stream
from dialogue.pipeline.values import Delta, IncomingMessage, Reply, Turn

__all__ = [
    "AlreadyAdmitted",
    "Delta",
    "DuplicateInFlight",
    "IncomingMessage",
    "InvalidMessage",
    "NativeTurnStore",
    "OrmTurnStore",
    "PipelineError",
    "Reply",
    "SessionEnded",
    "SessionNotFound",
    "TooManyRequests",
    "Turn",
    "VisitorRateAdmission",
    "answer",
    "complete",
    "prepare",
    "stream",
]
