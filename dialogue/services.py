"""Writes on chat sessions and messages: one transaction each."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from dialogue.handoff_summary import handoff_summary_schedule
from dialogue.live import events
from dialogue.models import (
    ChatSession,
    EndReason,
    HandoffReason,
    Message,
    Role,
    SessionStatus,
)
from dialogue.transcripts import transcript
from helpdesk.config import get_config
from knowledge.services import entries_record_usage
from workorders.services import workorder_comment, workorder_create

DESCRIPTION_LIMIT = 20000


class SessionClosed(Exception):
    """The session has ended; the customer must start a new one."""


def _idle(session: ChatSession, idle_minutes: int | None) -> bool:
    if idle_minutes is None:
        idle_minutes = get_config().get("dialogue.session_idle_minutes")
    return session.status == SessionStatus.ACTIVE and (
        timezone.now() - session.last_activity_at > timedelta(minutes=idle_minutes)
    )


def _close(session: ChatSession, reason: str) -> None:
    session.status = SessionStatus.ENDED
    session.end_reason = reason
    session.ended_at = timezone.now()
    session.save(update_fields=["status", "end_reason", "ended_at"])


def session_open(
    *,
    channel: str,
    external_user_id: str,
    work_order: Any = None,
    idle_minutes: int | None = None,
) -> tuple[ChatSession, bool]:
    """The customer's open session, or a new one (an idle active session is ended first;
    `idle_minutes` defaults to `dialogue.session_idle_minutes`).

    Returns (session, created). At most one open session per customer and channel
    (a partial unique constraint), so concurrent first messages share one session.
    """
    for _attempt in range(3):
        with transaction.atomic():
            session = (
                ChatSession.objects.select_for_update()
                .exclude(status=SessionStatus.ENDED)
                .filter(channel=channel, external_user_id=external_user_id)
                .first()
            )
            if session is not None and _idle(session, idle_minutes):
                _close(session, EndReason.IDLE)
                session = None
            if session is not None:
                return session, False
            try:
                with transaction.atomic():
                    created = ChatSession.objects.create(
                        channel=channel, external_user_id=external_user_id, work_order=work_order
                    )
                return created, True
            except IntegrityError:
                continue
    raise IntegrityError("Could not open a chat session.")


def session_for_message(*, session: ChatSession, idle_minutes: int | None = None) -> ChatSession:
    """The session a new message of `session`'s customer goes to (idle: a new one)."""
    session = ChatSession.objects.get(pk=session.pk)
    if session.status == SessionStatus.ENDED:
        raise SessionClosed
    if _idle(session, idle_minutes):
        return session_open(
            channel=session.channel,
            external_user_id=session.external_user_id,
            idle_minutes=idle_minutes,
        )[0]
    return session


def message_add_user(
    *, session: ChatSession, content: str, channel_message_id: str = ""
) -> Message:
    with transaction.atomic():
        message = Message.objects.create(
            session=session,
            role=Role.USER,
            content=content,
            channel_message_id=channel_message_id,
        )
        touch(session, message)
    return message


def touch(session: ChatSession, message: Message, **changes: Any) -> None:
    """One more message in the session, which was last active when it was written."""
    ChatSession.objects.filter(pk=session.pk).update(
        message_count=F("message_count") + 1, last_activity_at=message.created_at, **changes
    )
    session.last_activity_at = message.created_at
    session.message_count += 1


def message_add_answer(
    *,
    session: ChatSession,
    reply_to: Message,
    content: str,
    role: str = Role.ASSISTANT,
    low_confidence: bool = False,
    **fields: Any,
) -> Message:
    """Save an answer (or a system notice), count one use of each cited entry, and move
    the session's low-confidence streak: one more after a low-confidence assistant answer,
    back to 0 after a confident one; failed answers and notices leave it. The streak is
    counted in the database, so concurrent answers cannot lose a step, and
    `session.low_confidence_streak` holds its value after this answer."""
    with transaction.atomic():
        answer = Message.objects.create(
            session=session,
            role=role,
            reply_to=reply_to,
            content=content,
            low_confidence=low_confidence,
            **fields,
        )
        if role == Role.ASSISTANT and not fields.get("error_type"):
            streak = F("low_confidence_streak") + 1 if low_confidence else Value(0)
            touch(session, answer, low_confidence_streak=streak)
            session.low_confidence_streak = (
                ChatSession.objects.filter(pk=session.pk)
                .values_list("low_confidence_streak", flat=True)
                .get()
            )
        else:
            touch(session, answer)
        if answer.citations:
            entries_record_usage(entry_ids=answer.citations, used_at=answer.created_at)
    return answer


def _summary(session: ChatSession, reason: str) -> str:
    questions = list(
        session.messages.filter(role=Role.USER)
        .order_by("created_at")
        .values_list("content", flat=True)
    )
    first = questions[0] if questions else ""
    return _(
        "Customer %(user)s (%(channel)s) was handed over to a person: %(reason)s. "
        "First question: %(first)s. Customer messages: %(count)d."
    ) % {
        "user": session.external_user_id,
        "channel": session.get_channel_display(),
        "reason": HandoffReason(reason).label,
        "first": first or "-",
        "count": len(questions),
    }


def _description(summary: str, text: str) -> str:
    """Summary and transcript, keeping the latest part of a transcript that is too long."""
    room = DESCRIPTION_LIMIT - len(summary) - 10
    if len(text) > room:
        text = "…" + text[-room:]
    return f"{summary}\n\n{text}"


def session_handoff(*, session: ChatSession, reason: str, actor: Any = None) -> ChatSession:
    """Hand the session to a person: open a chat work order with the transcript and a summary.

    The summary is built from templates, so the hand-off never waits for the LLM; once
    committed, a background task adds the LLM's summary (dialogue.handoff_summary).
    Idempotent: a session already handed off keeps its work order.
    """
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        if session.status == SessionStatus.ENDED:
            raise SessionClosed
        if session.status == SessionStatus.HANDED_OFF:
            return session
        summary = _summary(session, reason)
        first_question = session.messages.filter(role=Role.USER).order_by("created_at").first()
        title_text = first_question.content if first_question else session.external_user_id
        work_order = workorder_create(
            title=_("Chat hand-off: %(text)s") % {"text": title_text[:60]},
            description=_description(summary, transcript(session)),
            source="chat",
            actor=actor,
            requester_name=session.external_user_id[:100],
            requester_external_id=session.external_user_id,
            extra={"chat_session_id": session.pk, "channel": session.channel},
        )
        session.status = SessionStatus.HANDED_OFF
        session.handoff_reason = reason
        session.handed_off_at = timezone.now()
        session.work_order = work_order
        session.save(update_fields=["status", "handoff_reason", "handed_off_at", "work_order"])
        transaction.on_commit(partial(handoff_summary_schedule, session=session), robust=True)
        events.publish_session(session)
    return session


def session_end(*, session: ChatSession) -> ChatSession:
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        if session.status != SessionStatus.ENDED:
            _close(session, EndReason.CLOSED)
            events.publish_session(session)
    return session


def session_rate(*, session: ChatSession, rating: int) -> ChatSession:
    ChatSession.objects.filter(pk=session.pk).update(satisfaction=rating)
    session.satisfaction = rating
    return session


def message_feedback(
    *, message: Message, rating: int | None = None, thumbs_up: bool | None = None
) -> Message:
    changes = {}
    if rating is not None:
        changes["rating"] = rating
    if thumbs_up is not None:
        changes["thumbs_up"] = thumbs_up
    Message.objects.filter(pk=message.pk).update(**changes)
    for name, value in changes.items():
        setattr(message, name, value)
    return message


def handed_off_message_forward(*, session: ChatSession, message: Message) -> None:
    """A customer message in a handed-off session goes to the work order's timeline."""
    if session.work_order_id:
        workorder_comment(
            work_order=session.work_order,
            actor=None,
            body=_("Customer: %(text)s") % {"text": message.content},
            internal=False,
        )
