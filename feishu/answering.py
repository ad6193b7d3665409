"""The Feishu channel's one door into the conversation app (dialogue).

Everything the channel needs from the message pipeline and the dialogue services goes
through the functions here: the pipeline (`dialogue.pipeline`, run from the task worker
with the ORM turn store: the worker runs on any database) and the dialogue services for
feedback and hand-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async

from dialogue import pipeline, services
from dialogue.models import Channel, ChatSession, HandoffReason, Message, SessionStatus
from dialogue.selectors import citation_titles
from helpdesk.loops import run_async
from llm.client import get_llm_client

PipelineError = pipeline.PipelineError
DuplicateInFlight = pipeline.DuplicateInFlight
TURN_STORE = pipeline.OrmTurnStore()


@dataclass
class Answer:
    """What the pipeline answered, as the Feishu card needs it."""

    text: str
    session_id: int
    answer_id: int | None
    handed_off: bool
    duplicate: bool
    sources: list[str] = field(default_factory=list)


def _sources(reply: pipeline.Reply) -> list[str]:
    """The titles of the entries the answer cites, in its order: the pipeline's own
    (read only for a duplicate reply, which comes without them)."""
    answer = reply.answer
    ids = [i for i in (answer.citations if answer is not None else []) if isinstance(i, int)]
    if not ids:
        return []
    titles = reply.titles or citation_titles([answer])
    return [titles[i] for i in ids if titles.get(i)]


def answer_streaming(
    *, tenant: Any, text: str, open_id: str, message_id: str, on_text: Callable[[str], None]
) -> Answer:
    """Ask the pipeline; `on_text(answer_so_far)` is called as the answer streams in."""
    incoming = pipeline.IncomingMessage(
        tenant_id=tenant.pk,
        channel=Channel.FEISHU,
        external_user_id=open_id,
        content=text,
        channel_message_id=message_id,
    )

    async def run() -> pipeline.Reply:
        turn = await pipeline.prepare(incoming, store=TURN_STORE)
        parts: list[str] = []
        async for item in pipeline.stream(turn, store=TURN_STORE):
            if isinstance(item, pipeline.Delta):
                parts.append(item.text)
                await sync_to_async(on_text)("".join(parts))
            else:
                return item
        raise RuntimeError("The answer stream ended without a reply.")

    reply = run_async(run(), closers=(get_llm_client().aclose,))
    return Answer(
        text=reply.text,
        session_id=reply.session.pk,
        answer_id=reply.answer.pk if reply.answer is not None else None,
        handed_off=reply.handed_off,
        duplicate=reply.duplicate,
        sources=_sources(reply),
    )


def answer_feedback(*, answer_id: int, open_id: str, helpful: bool) -> bool:
    """Thumbs up or down from the customer who asked; False when the answer is not theirs."""
    message = (
        Message.objects.filter(
            pk=answer_id, session__channel=Channel.FEISHU, session__external_user_id=open_id
        )
        .select_related("session")
        .first()
    )
    if message is None:
        return False
    services.message_feedback(message=message, thumbs_up=helpful)
    return True


def session_hand_off(*, session_id: int, open_id: str) -> ChatSession | None:
    """转人工 from a card: the customer's session goes to a person (opens a work order)."""
    session = ChatSession.objects.filter(
        pk=session_id, channel=Channel.FEISHU, external_user_id=open_id
    ).first()
    if session is None or session.status == SessionStatus.ENDED:
        return None
    return services.session_handoff(session=session, reason=HandoffReason.REQUEST)
