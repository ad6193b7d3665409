"""The staff desk's live connection, `/ws/desk/` (docs/live-protocol.md).

A logged-in staff member of a tenant (the admin's session) opens it from `/desk/`: it
follows the tenant's queue of conversations that need a person, and the conversations
the desk opened. Viewers read; agents and tenant administrators act: claim, transfer,
reply, write internal notes, hand back to the assistant, end, search the knowledge base,
ask for a drafted reply, and teach the assistant (a reply built on a knowledge entry, a
wrong answer corrected with the right entry: dialogue.staff). The desk tells everyone
which staff are at their desks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from accounts.models import User
from accounts.presence import Presence, presence_clear, presence_set
from dialogue import drafts, services, staff
from dialogue.live import events, groups, queries
from dialogue.live.connection import LiveConsumer
from dialogue.live.protocol import (
    CLOSE_FORBIDDEN,
    PROTOCOL_VERSION,
    Empty,
    Frame,
    FrameError,
    Hello,
)
from dialogue.live.replies import Replies, chosen_replies
from helpdesk.api.fields import IdField
from helpdesk.roles import Role

logger = logging.getLogger(__name__)


class Queue(serializers.Serializer):
    view = serializers.ChoiceField(choices=queries.QUEUE_VIEWS, default="open")


class SessionFrame(serializers.Serializer):
    session = IdField()


class Transfer(SessionFrame):
    to = IdField()


class Text(SessionFrame):
    content = serializers.CharField(max_length=4000)


class Reply(Text):
    entry = IdField(required=False)


class Correct(SessionFrame):
    message = IdField()
    entry = IdField()


class Search(serializers.Serializer):
    q = serializers.CharField(max_length=200)


class PresenceFrame(serializers.Serializer):
    presence = serializers.ChoiceField(choices=[p.value for p in Presence])


READING = {
    "queue": Queue,
    "open": SessionFrame,
    "close": SessionFrame,
    "search": Search,
    "presence": PresenceFrame,
    "ping": Empty,
}
ACTING = {
    "claim": SessionFrame,
    "transfer": Transfer,
    "reply": Reply,
    "note": Text,
    "correct": Correct,
    "typing": SessionFrame,
    "release": SessionFrame,
    "end": SessionFrame,
    "draft": SessionFrame,
}


def may_use_desk(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.is_staff
        and user.tenant_id
        and user.tenant.is_active
        and user.has_role(Role.VIEWER)
    )


@contextmanager
def refusals_as_frames() -> Iterator[None]:
    """An act the desk may not do, answered as the error frame that says why."""
    try:
        yield
    except queries.NotFound as exc:
        raise FrameError("not_found", exc.message) from None
    except services.SessionClosed:
        raise FrameError("session_ended", _("This conversation has ended.")) from None
    except staff.StaffActionRefused as exc:
        raise FrameError(exc.code, exc.message) from None


class DeskConsumer(LiveConsumer):
    # The entry point's choice of how replies are saved (dialogue.live.replies).
    replies: Replies = chosen_replies()

    async def connect(self) -> None:
        await super().connect()
        self.user: User = self.scope.get("user")
        self.said_hello = False
        self.opened: set[int] = set()
        if not await self.in_thread(may_use_desk, self.user):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.tenant_id = self.user.tenant_id
        self.acts = self.user.has_role(Role.AGENT)
        await self.accept()

    def schemas(self) -> dict[str, type[serializers.Serializer]]:
        if not self.said_hello:
            return {"hello": Hello, "ping": Empty}
        return {**READING, **ACTING}

    async def disconnect(self, code: int) -> None:
        if not self.said_hello:
            return
        for session_id in self.opened:
            await self.leave(groups.session_group(session_id))
        await self.leave(groups.desk_group(self.tenant_id))
        await self.in_thread(presence_clear, user=self.user)
        await self._announce_presence()

    # frames --------------------------------------------------------------------------

    async def on_hello(self, frame: Frame) -> None:
        self.said_hello = True
        await self.join(groups.desk_group(self.tenant_id))
        await self.in_thread(presence_set, user=self.user, presence=Presence.ONLINE)
        queue = await self.in_thread(queries.desk_queue, self.user, "open")
        await self.send_frame(
            {
                "type": "welcome",
                "protocol": PROTOCOL_VERSION,
                "me": {"id": self.user.pk, "name": self.user.get_full_name() or self.user.username},
                "acts": self.acts,
                "queue": queue,
                "staff": await self.in_thread(queries.desk_staff, self.tenant_id),
                "ref": frame.ref,
            }
        )
        await self._announce_presence()

    async def on_queue(self, frame: Frame) -> None:
        items = await self.in_thread(queries.desk_queue, self.user, frame.data["view"])
        await self.send_frame(
            {"type": "queue", "view": frame.data["view"], "items": items, "ref": frame.ref}
        )

    async def on_open(self, frame: Frame) -> None:
        session_id = frame.data["session"]
        conversation = await self._read(queries.desk_conversation, session_id)
        if session_id not in self.opened:
            self.opened.add(session_id)
            await self.join(groups.session_group(session_id))
        await self.send_frame({"type": "conversation", **conversation, "ref": frame.ref})

    async def on_close(self, frame: Frame) -> None:
        session_id = frame.data["session"]
        if session_id in self.opened:
            self.opened.discard(session_id)
            await self.leave(groups.session_group(session_id))
        await self.send_frame({"type": "ack", "ref": frame.ref})

    async def on_search(self, frame: Frame) -> None:
        hits = await self.in_thread(queries.knowledge_answers, frame.data["q"])
        await self.send_frame({"type": "search.results", "hits": hits, "ref": frame.ref})

    async def on_presence(self, frame: Frame) -> None:
        presence = Presence(frame.data["presence"])
        await self.in_thread(presence_set, user=self.user, presence=presence)
        await self._announce_presence()
        await self.send_frame({"type": "ack", "ref": frame.ref})

    async def on_claim(self, frame: Frame) -> None:
        self._may_act()
        await self._act(frame, staff.session_claim)

    async def on_transfer(self, frame: Frame) -> None:
        self._may_act()
        to = await self._read(queries.desk_agent, self.tenant_id, frame.data["to"])
        await self._act(frame, staff.session_transfer, to=to)

    async def on_reply(self, frame: Frame) -> None:
        self._may_act()
        entry_id = frame.data.get("entry")
        entry = None if entry_id is None else await self._read(queries.desk_entry, entry_id)
        with refusals_as_frames():
            await self.replies.reply(
                session_id=frame.data["session"],
                user=self.user,
                content=frame.data["content"],
                entry=entry,
            )
        await self.send_frame({"type": "ack", "ref": frame.ref})

    async def on_note(self, frame: Frame) -> None:
        self._may_act()
        await self._act(frame, staff.note_add, content=frame.data["content"])

    async def on_correct(self, frame: Frame) -> None:
        self._may_act()
        session_id = frame.data["session"]
        message = await self._read(queries.desk_message, session_id, frame.data["message"])
        entry = await self._read(queries.desk_entry, frame.data["entry"])
        proposal = await self._perform(
            session_id, staff.answer_correct, message=message, entry=entry
        )
        made = None if proposal is None else {"id": proposal.pk, "text": proposal.text}
        await self.send_frame({"type": "ack", "proposal": made, "ref": frame.ref})

    async def on_release(self, frame: Frame) -> None:
        self._may_act()
        await self._act(frame, staff.session_release)

    async def on_end(self, frame: Frame) -> None:
        self._may_act()
        await self._act(frame, staff.session_close)

    async def on_typing(self, frame: Frame) -> None:
        self._may_act()
        session_id = frame.data["session"]
        # Only a conversation this desk opened, which it read through its tenant: the
        # customer's page is sent the staff member's name. Typing has no answer in the
        # protocol, so another one is dropped (a desk that just reconnected types before
        # it has opened its conversation again).
        if session_id not in self.opened:
            return
        event = events.typing_event(session_id, who="agent", user=self.user)
        await groups.apublish([groups.session_group(session_id)], event)

    async def on_draft(self, frame: Frame) -> None:
        self._may_act()
        session = await self._read(queries.desk_session, frame.data["session"])
        try:
            prompt = await self.in_thread(drafts.draft_prompt, session=session)
            text = await drafts.draft_reply(prompt)
        except drafts.DraftUnavailable as exc:
            raise FrameError("unavailable", exc.message) from None
        except Exception:
            # The search, the cache or the database: a refusal, not the desk's socket closed.
            logger.exception("The draft for session %s failed.", session.pk)
            raise FrameError("unavailable", _("The draft could not be written.")) from None
        await self.send_frame(
            {"type": "draft", "session": session.pk, "text": text, "ref": frame.ref}
        )

    # live events ---------------------------------------------------------------------

    async def live_message(self, event: dict[str, Any]) -> None:
        if self.said_hello and self.first_time(event):
            await self.send_frame({"type": "message", "message": event["staff"]})

    async def live_activity(self, event: dict[str, Any]) -> None:
        if self.said_hello:
            await self.send_frame({"type": "activity", "lines": event["lines"]})

    async def live_session(self, event: dict[str, Any]) -> None:
        if self.said_hello and self.first_time(event):
            await self.send_frame({"type": "session", "session": event["queue"]})

    async def live_typing(self, event: dict[str, Any]) -> None:
        if event["who"] == "customer" and self.first_time(event):
            await self.send_frame({"type": "typing", "session": event["session"]})

    async def live_presence(self, event: dict[str, Any]) -> None:
        if self.said_hello:
            await self.send_frame({"type": "presence", "staff": event["staff"]})

    # helpers -------------------------------------------------------------------------

    def _may_act(self) -> None:
        if not self.acts:
            raise FrameError("forbidden", _("Viewers may read conversations, not act on them."))

    async def _read(self, query: Any, *args: Any) -> Any:
        try:
            return await self.in_thread(query, *args)
        except queries.NotFound as exc:
            raise FrameError("not_found", exc.message) from None

    async def _act(self, frame: Frame, action: Any, **options: Any) -> None:
        await self._perform(frame.data["session"], action, **options)
        await self.send_frame({"type": "ack", "ref": frame.ref})

    async def _perform(self, session_id: int, action: Any, **options: Any) -> Any:
        """`action` on the tenant's conversation `session_id`, read in the same unit of
        work (one trip to a worker thread per act)."""

        def perform() -> Any:
            return action(session=queries.desk_session(session_id), user=self.user, **options)

        with refusals_as_frames():
            return await self.in_thread(perform)

    async def _announce_presence(self) -> None:
        present = await self.in_thread(queries.desk_staff, self.tenant_id)
        await groups.apublish(
            [groups.desk_group(self.tenant_id)], {"type": "live.presence", "staff": present}
        )
