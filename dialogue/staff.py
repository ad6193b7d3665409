"""What support staff do in a conversation: claim it, pass it on, answer, write an
internal note, correct a wrong answer, hand it back to the assistant, end it.

One transaction each. Everything lands in the session's messages (the customer sees a
short system notice where it concerns them) and in the linked work order's timeline,
and reaches the live connections once committed (`dialogue.live.events`). A reply to a
conversation the assistant still has takes it over: it is handed off and claimed.

Staff teach the assistant as they work: a reply built on a knowledge entry proposes the
customer's wordings as that entry's similar questions, and so does a wrong answer
corrected with the right entry (`knowledge.proposals`, approved in the admin or the API).

One owner at a time: a claim is a conditional update, so of two agents claiming at once
exactly one wins; the other gets `Claimed` naming the owner. Only the owner (or a tenant
administrator) replies to, transfers or hands back a claimed conversation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from dialogue import services
from dialogue.delivery import deliver_on_commit
from dialogue.live import events
from dialogue.models import ChatSession, HandoffReason, Message, Role, SessionStatus
from helpdesk.roles import Role as StaffRole
from knowledge.models import KnowledgeEntry, WordingProposal
from knowledge.proposals import proposal_for_corrected_answer, proposals_for_resolved_session
from workorders.services import workorder_assign, workorder_comment


class StaffActionRefused(Exception):
    code = "conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Claimed(StaffActionRefused):
    """Another agent owns the conversation."""

    def __init__(self, owner: User) -> None:
        name = owner.get_full_name() or owner.username
        super().__init__(_("%(name)s is handling this conversation.") % {"name": name})
        self.owner = owner


class NotHandedOff(StaffActionRefused):
    def __init__(self) -> None:
        super().__init__(_("The assistant has this conversation; nothing to hand back."))


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _notice(session: ChatSession, text: str) -> Message:
    """A system message the customer sees (in the product's language: the customer's own
    is not known here)."""
    message = Message.objects.create(session=session, role=Role.SYSTEM, content=text)
    services.touch(session, message)
    events.publish_message(message, session)
    deliver_on_commit(session, message)
    return message


def _locked(session: ChatSession) -> ChatSession:
    session = (
        ChatSession.objects.select_related("work_order")
        .select_for_update(of=("self",))
        .get(pk=session.pk)
    )
    if session.status == SessionStatus.ENDED:
        raise services.SessionClosed
    return session


def _owns_or_admin(session: ChatSession, user: User) -> bool:
    return session.assignee_id in (None, user.pk) or user.has_role(StaffRole.TENANT_ADMIN)


def _may_take_over(user: User, session: ChatSession) -> bool:
    return user.tenant_id == session.tenant_id and user.is_active and user.has_role(StaffRole.AGENT)


def _take(session: ChatSession, user: User) -> ChatSession:
    """Hand the conversation off if the assistant has it, then claim it for `user`."""
    if session.status == SessionStatus.ACTIVE:
        session = services.session_handoff(session=session, reason=HandoffReason.AGENT, actor=user)
    claimed = ChatSession.objects.filter(
        pk=session.pk, status=SessionStatus.HANDED_OFF, assignee__isnull=True
    ).update(assignee=user, assigned_at=timezone.now())
    session = ChatSession.objects.select_related("assignee").get(pk=session.pk)
    if not claimed:
        if session.assignee_id != user.pk:
            raise Claimed(session.assignee)
        return session
    if session.work_order_id:
        workorder_assign(work_order=session.work_order, assignee=user, actor=user)
    with translation.override(settings.LANGUAGE_CODE):
        _notice(session, _("%(name)s from our support team has joined.") % {"name": _name(user)})
    events.publish_session(session)
    return session


def session_claim(*, session: ChatSession, user: User) -> ChatSession:
    with transaction.atomic():
        return _take(_locked(session), user)


def session_transfer(*, session: ChatSession, user: User, to: User) -> ChatSession:
    """Give the conversation to another agent of the tenant."""
    with transaction.atomic():
        session = _locked(session)
        if not _owns_or_admin(session, user):
            raise Claimed(session.assignee)
        if not _may_take_over(to, session):
            raise StaffActionRefused(_("Transfer to an active agent of this tenant."))
        if session.status == SessionStatus.ACTIVE:
            session = services.session_handoff(
                session=session, reason=HandoffReason.AGENT, actor=user
            )
        ChatSession.objects.filter(pk=session.pk).update(assignee=to, assigned_at=timezone.now())
        session = ChatSession.objects.select_related("assignee").get(pk=session.pk)
        if session.work_order_id:
            workorder_assign(work_order=session.work_order, assignee=to, actor=user)
        with translation.override(settings.LANGUAGE_CODE):
            _notice(
                session,
                _("%(name)s from our support team will help you further.") % {"name": _name(to)},
            )
        events.publish_session(session)
    return session


def session_release(*, session: ChatSession, user: User) -> ChatSession:
    """Hand the conversation back to the assistant (the work order stays open)."""
    with transaction.atomic():
        session = _locked(session)
        if session.status != SessionStatus.HANDED_OFF:
            raise NotHandedOff
        if not _owns_or_admin(session, user):
            raise Claimed(session.assignee)
        ChatSession.objects.filter(pk=session.pk).update(
            status=SessionStatus.ACTIVE,
            assignee=None,
            assigned_at=None,
            low_confidence_streak=0,
        )
        session.refresh_from_db()
        if session.work_order_id:
            workorder_comment(
                work_order=session.work_order,
                actor=user,
                body=_("Handed back to the AI assistant."),
                internal=True,
            )
        with translation.override(settings.LANGUAGE_CODE):
            _notice(session, _("You are talking to the AI assistant again."))
        events.publish_session(session)
    return session


def session_close(*, session: ChatSession, user: User) -> ChatSession:
    """End the conversation from the desk."""
    with transaction.atomic():
        session = _locked(session)
        with translation.override(settings.LANGUAGE_CODE):
            _notice(session, _("The support team has ended this conversation."))
        session = services.session_end(session=session)
    return session


def reply_add(
    *, session: ChatSession, user: User, content: str, entry: KnowledgeEntry | None = None
) -> Message:
    """The agent answers the customer; a conversation nobody has is claimed first. `entry`
    is the knowledge entry the reply was built on: the customer's questions are proposed
    as its similar questions."""
    with transaction.atomic():
        session = _locked(session)
        if not _owns_or_admin(session, user):
            raise Claimed(session.assignee)
        if session.assignee_id is None:
            session = _take(session, user)
        message = Message.objects.create(
            session=session, role=Role.AGENT, author=user, content=content
        )
        services.touch(session, message)
        if session.work_order_id:
            workorder_comment(
                work_order=session.work_order, actor=user, body=content, internal=False
            )
        if entry is not None:
            proposals_for_resolved_session(session=session, entry=entry, actor=user)
        events.publish_message(message, session)
        deliver_on_commit(session, message)
    return message


def note_add(*, session: ChatSession, user: User, content: str) -> Message:
    """An internal note for staff: in the conversation and the work order, never shown to
    the customer."""
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        return _note(session, user, content)


def _note(
    session: ChatSession, user: User, content: str, *, about: Message | None = None
) -> Message:
    message = Message.objects.create(
        session=session, role=Role.NOTE, author=user, content=content, reply_to=about
    )
    if session.work_order_id:
        workorder_comment(work_order=session.work_order, actor=user, body=content, internal=True)
    events.publish_message(message, session)
    return message


class NotAnAnswer(StaffActionRefused):
    code = "not_an_answer"

    def __init__(self) -> None:
        super().__init__(_("Only the assistant's answers in this conversation can be corrected."))


def answer_correct(
    *, session: ChatSession, user: User, message: Message, entry: KnowledgeEntry
) -> WordingProposal | None:
    """Mark an assistant answer as wrong, `entry` being the right one: an internal note
    says so and the customer's question is proposed as the entry's similar question (None
    when the entry already has that wording)."""
    if message.session_id != session.pk or message.role != Role.ASSISTANT:
        raise NotAnAnswer
    with transaction.atomic():
        session = ChatSession.objects.select_for_update().get(pk=session.pk)
        with translation.override(settings.LANGUAGE_CODE):
            body = _("Answer corrected by %(name)s: the right entry is “%(question)s”.") % {
                "name": _name(user),
                "question": entry.question,
            }
        _note(session, user, body, about=message)
        return proposal_for_corrected_answer(message=message, entry=entry, actor=user)
