"""Reads: the sessions and messages a caller may see, with the staff filters."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from dialogue.authentication import Visitor
from dialogue.models import (
    CUSTOMER_ROLES,
    Channel,
    ChatSession,
    Message,
    Role,
    SuggestionStatus,
    WorkOrderSuggestion,
)
from knowledge.models import KnowledgeEntry


def sessions_visible_to(user: Any) -> QuerySet[ChatSession]:
    """Staff see their tenant's sessions; a visitor sees only its own web sessions."""
    sessions = ChatSession.objects.select_related("work_order")
    if isinstance(user, Visitor):
        return sessions.filter(channel=Channel.WEB, external_user_id=user.visitor_id)
    return sessions


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _day_end(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


def sessions_filter(
    sessions: QuerySet[ChatSession],
    *,
    channel: str | None = None,
    status: str | None = None,
    handed_off: bool | None = None,
    low_confidence: bool | None = None,
    since: date | None = None,
    until: date | None = None,
    external_user_id: str | None = None,
    work_order: int | None = None,
    q: str | None = None,
) -> QuerySet[ChatSession]:
    if channel:
        sessions = sessions.filter(channel=channel)
    if status:
        sessions = sessions.filter(status=status)
    if handed_off is not None:
        handed = Q(handoff_reason__gt="")
        sessions = sessions.filter(handed) if handed_off else sessions.exclude(handed)
    if low_confidence is not None:
        flagged = Exists(Message.objects.filter(session=OuterRef("pk"), low_confidence=True))
        sessions = sessions.filter(flagged if low_confidence else ~flagged)
    if since:
        sessions = sessions.filter(last_activity_at__gte=_day_start(since))
    if until:
        sessions = sessions.filter(started_at__lte=_day_end(until))
    if external_user_id:
        sessions = sessions.filter(external_user_id=external_user_id)
    if work_order:
        sessions = sessions.filter(work_order_id=work_order)
    if q:
        # The old system's conversation search: any message of the session contains q.
        matching = Message.objects.filter(session=OuterRef("pk"), content__icontains=q)
        sessions = sessions.filter(Q(external_user_id=q) | Exists(matching))
    return sessions


def messages_filter(
    messages: QuerySet[Message],
    *,
    session: int | None = None,
    channel: str | None = None,
    role: str | None = None,
    low_confidence: bool | None = None,
    kb_only: bool | None = None,
    failed: bool | None = None,
    since: date | None = None,
    until: date | None = None,
    q: str | None = None,
) -> QuerySet[Message]:
    if session:
        messages = messages.filter(session_id=session)
    if channel:
        messages = messages.filter(session__channel=channel)
    if role:
        messages = messages.filter(role=role)
    if low_confidence is not None:
        messages = messages.filter(low_confidence=low_confidence)
    if kb_only is not None:
        messages = messages.filter(kb_only=kb_only)
    if failed is not None:
        messages = messages.exclude(error_type="") if failed else messages.filter(error_type="")
    if since:
        messages = messages.filter(created_at__gte=_day_start(since))
    if until:
        messages = messages.filter(created_at__lte=_day_end(until))
    if q:
        messages = messages.filter(content__icontains=q)
    return messages


def session_history(session: ChatSession, *, viewer: Any) -> QuerySet[Message]:
    """The conversation in order; a visitor does not see staff's internal notes."""
    messages = session.messages.select_related("author").order_by("created_at", "id")
    if isinstance(viewer, Visitor):
        messages = messages.filter(role__in=CUSTOMER_ROLES)
    return messages


def work_order_conversation(work_order_id: int) -> QuerySet[Message]:
    """Every message of the chat sessions linked to a work order, in order."""
    return (
        Message.objects.filter(session__work_order_id=work_order_id)
        .select_related("author")
        .order_by("created_at", "id")
    )


def citation_titles(messages: list[Message]) -> dict[int, str]:
    """The questions of the knowledge entries the messages cite (one query)."""
    ids = {entry_id for message in messages for entry_id in message.citations}
    if not ids:
        return {}
    return dict(KnowledgeEntry.objects.filter(pk__in=ids).values_list("pk", "question"))


def recent_history(session: ChatSession, *, before: Message | None = None, limit: int) -> QuerySet:
    """(role, content) of the session's answered turns (other than `before`, the message
    being answered), newest first: what a prompt may quote (failed answers and system
    notices left out)."""
    messages = Message.objects.filter(
        session=session, role__in=[Role.USER, Role.ASSISTANT, Role.AGENT]
    )
    if before is not None:
        messages = messages.exclude(pk=before.pk)
    return (
        messages.exclude(error_type__gt="")
        .order_by("-created_at", "-id")
        .values_list("role", "content")[:limit]
    )


def work_order_suggestion_texts(session: ChatSession) -> QuerySet | list[str]:
    """The linked work order's three newest suggestions that were not rejected."""
    if not session.work_order_id:
        return []
    return (
        WorkOrderSuggestion.objects.filter(work_order_id=session.work_order_id)
        .exclude(status=SuggestionStatus.REJECTED)
        .order_by("-created_at")
        .values_list("content", flat=True)[:3]
    )


def duplicate_of(*, channel: str, external_user_id: str, channel_message_id: str) -> Message | None:
    """The customer's earlier message with this channel message id, newest first."""
    return (
        Message.objects.select_related("session__work_order")
        .filter(
            role=Role.USER,
            channel_message_id=channel_message_id,
            session__channel=channel,
            session__external_user_id=external_user_id,
        )
        .order_by("-id")
        .first()
    )


def answer_to(message: Message) -> Message | None:
    """The first answer (or notice) saved in reply to a customer message."""
    return message.replies.exclude(role=Role.USER).order_by("id").first()
