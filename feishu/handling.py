"""Handling what Feishu sent: a message (in the task worker) and a card action (inline).

A message in a group is answered only when it @-mentions the bot; text and rich text
are answered through the pipeline as a streaming card; other message types get a
polite note saying what the bot reads. A card action is a button on an answer card
(helpful / not helpful / 转人工) or on an alert card (acknowledge).
"""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext as _

from feishu import answering, cards
from feishu.alert_actions import alert_acknowledge_from_card
from feishu.inbound import MalformedEvent, json_object, parse_message
from feishu.models import FeishuApp, InboundEvent, OutboundMessage, ReplyCard
from feishu.outbound import CardStream, outbound_send
from feishu.services import inbound_event_finish

logger = logging.getLogger(__name__)
Status = InboundEvent.Status


def _notice(app: FeishuApp, *, reply_to: str, chat_id: str, text: str) -> None:
    outbound = OutboundMessage.objects.create(
        app=app,
        purpose=OutboundMessage.Purpose.NOTICE,
        msg_type="text",
        content={"text": text},
        reply_to=reply_to,
        chat_id=chat_id,
    )
    outbound_send(outbound=outbound)


def message_event_handle(*, event: InboundEvent) -> str:
    """Answer one recorded message event; returns the event's final status."""
    app = event.app
    try:
        message = parse_message(event.payload, bot_open_id=app.bot_open_id)
    except MalformedEvent as exc:
        inbound_event_finish(event=event, status=Status.IGNORED, note=str(exc))
        return Status.IGNORED
    if message.in_group and not message.mentions_bot:
        inbound_event_finish(event=event, status=Status.IGNORED, note="group message for others")
        return Status.IGNORED
    if not message.readable or not message.text:
        _notice(
            app,
            reply_to=message.message_id,
            chat_id=message.chat_id,
            text=_(
                "Sorry, I can only read text and rich-text messages. Please type your question."
            ),
        )
        inbound_event_finish(event=event, status=Status.ANSWERED, note=message.message_type)
        return Status.ANSWERED

    stream = CardStream(app=app, reply_to=message.message_id, chat_id=message.chat_id)

    def show_partial(text: str) -> None:
        stream.show(cards.answer_card(text=text, final=False))

    try:
        answer = answering.answer_streaming(
            tenant=event.tenant,
            text=message.text,
            open_id=message.open_id,
            message_id=message.message_id,
            on_text=show_partial,
        )
    except answering.DuplicateInFlight:
        # Another worker is answering this very message: it sends the one reply.
        inbound_event_finish(event=event, status=Status.IGNORED, note="answered elsewhere")
        return Status.IGNORED
    except answering.PipelineError as exc:
        _notice(app, reply_to=message.message_id, chat_id=message.chat_id, text=exc.message)
        inbound_event_finish(event=event, status=Status.FAILED, note=exc.code)
        return Status.FAILED
    if answer.answer_id is None:
        # The session is with a person: the message went to the work order, they reply.
        inbound_event_finish(event=event, status=Status.ANSWERED, note="forwarded to staff")
        return Status.ANSWERED
    if (
        answer.duplicate
        and stream.outbound is None
        and ReplyCard.objects.filter(app=app, answer_id=answer.answer_id).exists()
    ):
        inbound_event_finish(event=event, status=Status.IGNORED, note="already answered")
        return Status.IGNORED
    final = cards.answer_card(
        text=answer.text,
        sources=answer.sources,
        answer_id=answer.answer_id,
        session_id=answer.session_id,
        handed_off=answer.handed_off,
    )
    stream.show(final, final=True)
    if stream.message_id:
        ReplyCard.objects.get_or_create(
            app=app,
            feishu_message_id=stream.message_id,
            defaults={
                "session_id": answer.session_id,
                "answer_id": answer.answer_id,
                "open_id": message.open_id,
                "chat_id": message.chat_id,
            },
        )
        inbound_event_finish(event=event, status=Status.ANSWERED)
        return Status.ANSWERED
    inbound_event_finish(event=event, status=Status.FAILED, note="the answer card was not sent")
    return Status.FAILED


def _toast(kind: str, text: str) -> dict[str, Any]:
    return {"toast": {"type": kind, "content": text}}


def card_action_handle(*, app: FeishuApp, payload: dict[str, Any]) -> dict[str, Any]:
    """Apply a button press; the answer (a toast) goes back in the callback response."""
    event = json_object(payload, "event")
    value = json_object(event, "action").get("value")
    open_id = json_object(event, "operator").get("open_id") or ""
    if not isinstance(value, dict) or not open_id:
        raise MalformedEvent("action value or operator missing")
    action = value.get("action")
    try:
        if action in ("helpful", "not_helpful"):
            done = answering.answer_feedback(
                answer_id=int(value.get("answer")), open_id=open_id, helpful=action == "helpful"
            )
            return (
                _toast("success", _("Thank you for your feedback."))
                if done
                else _toast("error", _("This answer is not yours to rate."))
            )
        if action == "handoff":
            session = answering.session_hand_off(
                session_id=int(value.get("session")), open_id=open_id
            )
            if session is None:
                return _toast("error", _("This conversation can no longer be handed over."))
            return _toast("success", _("A support agent will reply here soon."))
        if action == "ack_alert":
            return alert_acknowledge_from_card(
                app=app, alert_id=int(value.get("alert")), open_id=open_id
            )
    except (TypeError, ValueError):
        raise MalformedEvent("action value malformed") from None
    raise MalformedEvent(f"unknown action {action!r}")
