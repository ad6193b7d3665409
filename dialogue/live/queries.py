"""What the live connections read and do in a worker thread, inside the connection's
tenant scope: the customer page's conversation on resume and its actions, the desk's
queue and a conversation with everything beside it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Tenant, User
from accounts.presence import agents_online, staff_present
from dialogue import selectors, services
from dialogue.live import frames
from dialogue.models import CUSTOMER_ROLES, Channel, ChatSession, Message, Role, SessionStatus
from knowledge.models import KnowledgeEntry
from knowledge.search import search

# A page that resumes after message N also gets the messages written up to this long
# before it: one committed late is not lost (the page drops what it has by id).
RESUME_OVERLAP = timedelta(seconds=10)
CONVERSATION_MESSAGES = 200
QUEUE_LIMIT = 100
CUSTOMER_HISTORY = 10


class NotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def active_tenant(tenant_id: int) -> Tenant | None:
    return Tenant.objects.filter(pk=tenant_id, is_active=True).first()


# the customer's page -----------------------------------------------------------------


@dataclass
class Resumed:
    session_id: int | None
    session: dict[str, Any] | None
    messages: list[dict[str, Any]]
    agents_online: int


def customer_resume(
    *, tenant_id: int, visitor_id: str, session_id: int | None, after: int | None
) -> Resumed:
    """The visitor's conversation (the one asked for, else the open one) and the messages
    the page has not got: those after `after`, or the latest ones."""
    sessions = ChatSession.objects.select_related("assignee", "work_order").filter(
        channel=Channel.WEB, external_user_id=visitor_id
    )
    session = sessions.filter(pk=session_id).first() if session_id else None
    if session is None:
        session = sessions.exclude(status=SessionStatus.ENDED).first()
    online = agents_online(tenant_id)
    if session is None:
        return Resumed(None, None, [], online)
    messages = session.messages.filter(role__in=CUSTOMER_ROLES).select_related("author")
    anchor = messages.filter(pk=after).values_list("created_at", flat=True).first()
    if anchor is not None:
        chosen = list(
            messages.filter(Q(pk__gt=after) | Q(created_at__gte=anchor - RESUME_OVERLAP)).order_by(
                "created_at", "id"
            )[:CONVERSATION_MESSAGES]
        )
    else:
        chosen = list(messages.order_by("-created_at", "-id")[:CONVERSATION_MESSAGES])[::-1]
    titles = selectors.citation_titles(chosen)
    return Resumed(
        session.pk,
        frames.customer_session(session, agents_online=online),
        [frames.customer_message(message, titles) for message in chosen],
        online,
    )


def customer_session(session_id: int) -> dict[str, Any]:
    session = ChatSession.objects.select_related("assignee", "work_order").get(pk=session_id)
    return frames.customer_session(session, agents_online=agents_online(session.tenant_id))


def _session(session_id: int) -> ChatSession:
    return ChatSession.objects.get(pk=session_id)


def customer_feedback(
    *, session_id: int, message_id: int, thumbs: str | None, rating: int | None
) -> None:
    message = Message.objects.filter(
        pk=message_id, session_id=session_id, role=Role.ASSISTANT
    ).first()
    if message is None:
        raise NotFound(_("No answer with this id in this conversation."))
    services.message_feedback(
        message=message, rating=rating, thumbs_up=None if thumbs is None else thumbs == "up"
    )


def customer_rate(*, session_id: int, rating: int) -> None:
    services.session_rate(session=_session(session_id), rating=rating)


def customer_handoff(*, session_id: int, reason: str) -> None:
    services.session_handoff(session=_session(session_id), reason=reason)


def customer_end(*, session_id: int) -> None:
    services.session_end(session=_session(session_id))


# the staff desk ----------------------------------------------------------------------

QUEUE_VIEWS = ("open", "mine", "all")


def desk_queue(user: User, view: str) -> list[dict[str, Any]]:
    """Conversations that need a person: `open` (nobody has them), `mine`, or `all` of
    them with the conversations the assistant is having now (to watch and take over)."""
    sessions = ChatSession.objects.select_related("work_order", "assignee")
    needing = Q(status=SessionStatus.HANDED_OFF)
    if view == "open":
        sessions = sessions.filter(needing, assignee__isnull=True).order_by("handed_off_at")
    elif view == "mine":
        sessions = sessions.filter(needing, assignee=user).order_by("-last_activity_at")
    else:
        sessions = sessions.exclude(status=SessionStatus.ENDED).order_by("-last_activity_at")
    last = Message.objects.filter(session=OuterRef("pk")).order_by("-created_at", "-id")
    sessions = sessions.annotate(last_message_id=Subquery(last.values("pk")[:1]))[:QUEUE_LIMIT]
    sessions = list(sessions)
    lasts = Message.objects.in_bulk([s.last_message_id for s in sessions if s.last_message_id])
    return [frames.queue_item(s, lasts.get(s.last_message_id)) for s in sessions]


def desk_conversation(session_id: int) -> dict[str, Any]:
    """A conversation for the desk: every message (notes too), its work order, and the
    customer's other conversations."""
    session = (
        ChatSession.objects.select_related("work_order", "assignee").filter(pk=session_id).first()
    )
    if session is None:
        raise NotFound(_("No such conversation."))
    messages = list(
        session.messages.select_related("author").order_by("-created_at", "-id")[
            :CONVERSATION_MESSAGES
        ]
    )[::-1]
    titles = selectors.citation_titles(messages)
    others = (
        ChatSession.objects.filter(
            channel=session.channel, external_user_id=session.external_user_id
        )
        .exclude(pk=session.pk)
        .order_by("-started_at")[:CUSTOMER_HISTORY]
    )
    return {
        "session": frames.queue_item(session, messages[-1] if messages else None),
        "messages": [frames.staff_message(message, titles) for message in messages],
        "work_order": _work_order(session),
        "history": [
            {
                "id": other.pk,
                "status": other.status,
                "started_at": other.started_at.isoformat(),
                "message_count": other.message_count,
            }
            for other in others
        ],
    }


def _work_order(session: ChatSession) -> dict[str, Any] | None:
    if not session.work_order_id:
        return None
    work_order = session.work_order
    return {
        "id": work_order.pk,
        "number": work_order.number,
        "title": work_order.title,
        "status": work_order.status,
        "status_label": work_order.get_status_display(),
        "priority": work_order.priority,
        "priority_label": work_order.get_priority_display(),
        "url": reverse("admin:workorders_workorder_change", args=[work_order.pk]),
    }


def desk_session(session_id: int) -> ChatSession:
    session = ChatSession.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFound(_("No such conversation."))
    return session


def desk_message(session_id: int, message_id: int) -> Message:
    message = Message.objects.filter(pk=message_id, session_id=session_id).first()
    if message is None:
        raise NotFound(_("No such message in this conversation."))
    return message


def desk_entry(entry_id: int) -> KnowledgeEntry:
    entry = KnowledgeEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(_("No such knowledge entry."))
    return entry


def desk_staff(tenant_id: int) -> list[dict[str, Any]]:
    return [
        {"id": p.user_id, "name": p.name, "presence": p.presence.value}
        for p in staff_present(tenant_id)
    ]


def desk_agent(tenant_id: int, user_id: int) -> User:
    user = User.objects.filter(pk=user_id, tenant_id=tenant_id, is_active=True).first()
    if user is None:
        raise NotFound(_("No such agent."))
    return user


def knowledge_answers(query: str) -> list[dict[str, Any]]:
    return [
        {
            "id": hit.entry.pk,
            "question": hit.entry.question,
            "answer": hit.entry.answer,
            "score": hit.score,
            "verified": hit.entry.verified,
        }
        for hit in search(query, limit=5)
    ]
