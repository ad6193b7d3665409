"""Where a turn is read from and written to: one interface, two implementations.

`OrmTurnStore` (dialogue.pipeline.orm_store) works on every database through Django's
ORM, each step in a worker thread; `NativeTurnStore` (dialogue.pipeline.native_store)
does the hot steps natively async on PostgreSQL and Redis, in one round trip each.
An entry point chooses its store explicitly; the pipeline's tests run against both.
"""

from __future__ import annotations

from typing import Protocol

from dialogue.models import ChatSession, Message
from dialogue.pipeline.values import (
    AnswerDraft,
    Appended,
    Duplicate,
    IncomingMessage,
    SearchRequest,
    Turn,
    TurnSettings,
)
from knowledge.search import SearchHit
from llm.recording import CallRecorder


class TurnStore(Protocol):
    @property
    def call_recorder(self) -> CallRecorder:
        """Where the turn's LLM calls are recorded."""
        ...

    async def append(
        self,
        incoming: IncomingMessage,
        *,
        content: str,
        settings: TurnSettings,
        search: SearchRequest | None,
    ) -> Appended | Duplicate:
        """Save the customer's message (validated `content`) to its session and read the
        prompt's context: the earlier turns, the linked work order's suggestions and, when
        `search` is given and the session is the assistant's, the knowledge hits.

        The session is `incoming.session_id` (an idle one is ended and a new one opened)
        or the customer's open session of the channel (a new one if none). Raises
        SessionNotFound (not this customer's session, or the tenant is inactive) or
        SessionEnded, having written nothing; a channel message id seen before gives a
        Duplicate, also without writing.
        """
        ...

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        """The knowledge hits of a search the turn decided on after `append` (a follow-up
        question searched with the conversation), in the active tenant's scope."""
        ...

    async def save_answer(self, turn: Turn, draft: AnswerDraft) -> tuple[Message, int]:
        """Save the answer (or notice), its cited entries' use and the session's touch;
        returns the answer and the session's low-confidence streak after it."""
        ...

    async def amend_answer(self, answer: Message, content: str) -> None:
        """Replace a saved answer's text (a notice added after it was saved)."""
        ...

    async def hand_off(self, turn: Turn, reason: str) -> ChatSession:
        """Hand the session to a person (a work order); returns it with its work order
        loaded (the customer is told the work order's number); raises SessionEnded."""
        ...

    async def forward_to_agent(self, turn: Turn) -> None:
        """Pass a message of a handed-off session on to the person who has it."""
        ...
