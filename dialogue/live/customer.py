"""The customer's live connection, `/ws/chat/` (docs/live-protocol.md).

The page opens the socket and says `hello` with its visitor token (never in the URL,
which access logs keep), the session it shows and the last message id it has; the
answer is `welcome` with what it missed, so a page that reconnects (after a network drop,
a server restart, or to another server process) loses nothing. A message goes through
the message pipeline, the same as over HTTP, and its answer streams back as frames while
the connection goes on receiving; what staff do arrives as live events. An answer still
being written when the page goes away is finished and saved all the same: the page gets
it when it comes back (in `welcome`, or as a `message` once it is saved).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.http.request import validate_host
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers

from accounts.models import Tenant
from dialogue import pipeline, services
from dialogue.api.serializers import FeedbackSerializer, SendMessageSerializer
from dialogue.authentication import visitor_token_claims
from dialogue.live import events, frames, groups, queries
from dialogue.live.connection import LiveConsumer
from dialogue.live.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_HELLO_TIMEOUT,
    CLOSE_UNAUTHENTICATED,
    PROTOCOL_VERSION,
    Empty,
    Frame,
    FrameError,
    Hello,
)
from dialogue.models import Channel, HandoffReason
from dialogue.pipeline import native_store
from dialogue.pipeline.store import TurnStore
from helpdesk.api.fields import IdField
from helpdesk.tenancy import enter_scope, leave_scope

logger = logging.getLogger(__name__)

HELLO_TIMEOUT_SECONDS = 10


class CustomerHello(Hello):
    token = serializers.CharField(max_length=4096)
    session = IdField(required=False, allow_null=True)
    after = IdField(required=False, allow_null=True)


Send = SendMessageSerializer


class Feedback(FeedbackSerializer):
    """The HTTP feedback, on an answer: the frame rates the session with `rate`."""

    message = IdField()


class Rate(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)


BEFORE_HELLO = {"hello": CustomerHello, "ping": Empty}
AFTER_HELLO = {
    "send": Send,
    "feedback": Feedback,
    "rate": Rate,
    "handoff": Empty,
    "end": Empty,
    "typing": Empty,
    "ping": Empty,
}


def turn_store() -> TurnStore:
    """This entry point's store: the native one where the deployment runs it."""
    return pipeline.NativeTurnStore() if native_store.available() else pipeline.OrmTurnStore()


def origin_allowed(origin: str, tenant: Tenant) -> bool:
    """Our own hosts, or a site the tenant lists. A client that sends no Origin is no
    browser, which is what the check protects."""
    if not origin:
        return True
    if tenant.embeds_on(origin):
        return True
    return validate_host(urlsplit(origin).hostname or "", settings.ALLOWED_HOSTS)


class CustomerConsumer(LiveConsumer):
    async def connect(self) -> None:
        await super().connect()
        self.tenant: Tenant | None = None
        self.visitor_id = ""
        self.session_id: int | None = None
        self.sent: deque[int] = deque(maxlen=500)
        self.turns: set[asyncio.Task] = set()
        self.gone = False
        self.closing: asyncio.Task | None = None
        self.scope_token: Any = None
        self.store = turn_store()
        await self.accept()
        self.hello_timer = asyncio.get_running_loop().call_later(
            HELLO_TIMEOUT_SECONDS, self._close_without_hello
        )

    def schemas(self) -> dict[str, type[serializers.Serializer]]:
        return BEFORE_HELLO if self.tenant is None else AFTER_HELLO

    def _close_without_hello(self) -> None:
        if self.tenant is None and not self.gone:
            self.closing = asyncio.ensure_future(self.close(code=CLOSE_HELLO_TIMEOUT))

    async def disconnect(self, code: int) -> None:
        # The turns in flight are not cancelled: each answer is finished, saved and
        # published to the conversation, where the page finds it when it reconnects.
        self.gone = True
        self.hello_timer.cancel()
        if self.session_id is not None:
            await self.leave(groups.session_group(self.session_id))
        if self.scope_token is not None:
            leave_scope(self.scope_token)

    # frames --------------------------------------------------------------------------

    async def on_hello(self, frame: Frame) -> None:
        try:
            tenant_id, self.visitor_id = visitor_token_claims(frame.data["token"])
        except exceptions.AuthenticationFailed as exc:
            await self.send_frame(FrameError("unauthenticated", str(exc.detail)).frame(frame.ref))
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        tenant = await self.in_thread(queries.active_tenant, tenant_id)
        origin = dict(self.scope.get("headers", [])).get(b"origin", b"").decode("latin-1")
        if tenant is None or not origin_allowed(origin, tenant):
            refusal = FrameError("forbidden", _("This site may not open the chat."))
            await self.send_frame(refusal.frame(frame.ref))
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.tenant = tenant
        self.scope_token = enter_scope(tenant)
        self.hello_timer.cancel()
        resumed = await self.in_thread(
            queries.customer_resume,
            tenant_id=tenant.pk,
            visitor_id=self.visitor_id,
            session_id=frame.data.get("session"),
            after=frame.data.get("after"),
        )
        if resumed.session_id is not None:
            await self._follow(resumed.session_id)
        self.sent.extend(message["id"] for message in resumed.messages)
        await self.send_frame(
            {
                "type": "welcome",
                "protocol": PROTOCOL_VERSION,
                "session": resumed.session,
                "messages": resumed.messages,
                "agents_online": resumed.agents_online,
                "ref": frame.ref,
            }
        )

    async def on_send(self, frame: Frame) -> None:
        incoming = pipeline.IncomingMessage(
            tenant_id=self.tenant.pk,
            channel=Channel.WEB,
            external_user_id=self.visitor_id,
            content=frame.data["content"],
            channel_message_id=frame.data.get("client_message_id", ""),
            session_id=self.session_id,
        )
        task = asyncio.create_task(self._turn(incoming, frame))
        self.turns.add(task)
        task.add_done_callback(self.turns.discard)

    async def on_feedback(self, frame: Frame) -> None:
        await self._act(
            frame,
            queries.customer_feedback,
            message_id=frame.data["message"],
            thumbs=frame.data.get("thumbs"),
            rating=frame.data.get("rating"),
        )

    async def on_rate(self, frame: Frame) -> None:
        await self._act(frame, queries.customer_rate, rating=frame.data["rating"])

    async def on_handoff(self, frame: Frame) -> None:
        await self._act(frame, queries.customer_handoff, reason=HandoffReason.REQUEST)

    async def on_end(self, frame: Frame) -> None:
        await self._act(frame, queries.customer_end)

    async def on_typing(self, frame: Frame) -> None:
        if self.session_id is not None:
            event = events.typing_event(self.session_id, who="customer", user=None)
            await groups.apublish([groups.session_group(self.session_id)], event)

    # live events ---------------------------------------------------------------------

    async def live_message(self, event: dict[str, Any]) -> None:
        message = event["customer"]
        if message is not None and message["id"] not in self.sent:
            self.sent.append(message["id"])
            await self.send_frame({"type": "message", "message": message})

    async def live_session(self, event: dict[str, Any]) -> None:
        if event["session"] == self.session_id:
            await self.send_frame({"type": "session", "session": event["customer"]})

    async def live_typing(self, event: dict[str, Any]) -> None:
        if event["who"] == "agent":
            await self.send_frame({"type": "typing", "person": event["person"]})

    # helpers -------------------------------------------------------------------------

    async def send_frame(self, frame: dict[str, Any]) -> None:
        """Frames for a page that has gone are dropped (its turns still run to the end)."""
        if self.gone:
            return
        try:
            await super().send_frame(frame)
        except OSError:  # the page went away between two frames (uvicorn's ClientDisconnected)
            self.gone = True

    async def _act(self, frame: Frame, action: Any, **options: Any) -> None:
        """A customer action on the conversation the page shows; `ack` when done."""
        if self.session_id is None:
            raise FrameError("no_session", _("There is no conversation yet."))
        try:
            await self.in_thread(action, session_id=self.session_id, **options)
        except services.SessionClosed:
            raise FrameError("session_ended", _("This conversation has ended.")) from None
        except queries.NotFound as exc:
            raise FrameError("not_found", exc.message) from None
        await self.send_frame({"type": "ack", "ref": frame.ref})

    async def _follow(self, session_id: int) -> None:
        if session_id == self.session_id:
            return
        if self.session_id is not None:
            await self.leave(groups.session_group(self.session_id))
        self.session_id = session_id
        await self.join(groups.session_group(session_id))

    async def _turn(self, incoming: pipeline.IncomingMessage, frame: Frame) -> None:
        """One message and its answer; what goes wrong becomes an `error` frame."""
        # The turn's thread-sensitive work (the ORM store, search, the budget and
        # follow-up checks) in one worker thread of its own, as in Django's handler and
        # the fast path, not the one thread every connection of the process would share.
        async with ThreadSensitiveContext():
            await self._answer(incoming, frame)

    async def _answer(self, incoming: pipeline.IncomingMessage, frame: Frame) -> None:
        try:
            turn = await pipeline.prepare(
                incoming, store=self.store, admission=pipeline.VisitorRateAdmission()
            )
        except pipeline.PipelineError as exc:
            await self.send_frame(FrameError(exc.code, exc.message, _fields(exc)).frame(frame.ref))
            return
        except Exception:
            logger.exception("A message of session %s could not be prepared.", self.session_id)
            await self.send_frame(_answer_failed().frame(frame.ref))
            return
        if turn.session.pk != self.session_id:
            await self._follow(turn.session.pk)
            session = await self.in_thread(queries.customer_session, turn.session.pk)
            await self.send_frame({"type": "session", "session": session})
        self.sent.append(turn.user_message.pk)
        await self.send_frame(
            {
                "type": "message",
                "message": frames.customer_message(turn.user_message, {}),
                "client_message_id": incoming.channel_message_id,
                "ref": frame.ref,
            }
        )
        try:
            async for item in pipeline.stream(turn, store=self.store):
                if isinstance(item, pipeline.Delta):
                    await self.send_frame(
                        {
                            "type": "answer.delta",
                            "reply_to": turn.user_message.pk,
                            "text": item.text,
                        }
                    )
                else:
                    await self._done(turn, item, frame)
        except Exception:
            logger.exception("The answer to message %s failed.", turn.user_message.pk)
            await self.send_frame(_answer_failed().frame(frame.ref))

    async def _done(self, turn: pipeline.Turn, reply: pipeline.Reply, frame: Frame) -> None:
        answer = None
        if reply.answer is not None:
            answer = frames.customer_message(reply.answer, reply.titles)
            self.sent.append(reply.answer.pk)
        await self.send_frame(
            {
                "type": "answer.done",
                "reply_to": turn.user_message.pk,
                "message": answer,
                "session": reply.session.pk,
                "session_status": reply.session.status,
                "work_order": reply.session.work_order_id,
                "handed_off": reply.handed_off,
                "duplicate": reply.duplicate,
                "ref": frame.ref,
            }
        )


def _answer_failed() -> FrameError:
    return FrameError("answer_failed", _("The answer could not be completed."))


def _fields(exc: pipeline.PipelineError) -> dict[str, Any]:
    if isinstance(exc, pipeline.DuplicateInFlight):
        return {"original_message": exc.original_id}
    if isinstance(exc, pipeline.TooManyRequests):
        return {"retry_after": round(exc.retry_after)}
    return {exc.field: [exc.message]}
