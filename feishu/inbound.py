"""Reading a received message event: who, where, what it says, whether it is for the bot."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]
READABLE_TYPES = ("text", "post")


class MalformedEvent(ValueError):
    """An event without the fields every message event has."""


@dataclass(frozen=True)
class IncomingMessage:
    message_id: str
    chat_id: str
    chat_type: str  # "p2p" or "group"
    open_id: str
    message_type: str
    text: str
    mentions_bot: bool

    @property
    def readable(self) -> bool:
        return self.message_type in READABLE_TYPES

    @property
    def in_group(self) -> bool:
        return self.chat_type != "p2p"


def json_object(data: Any, key: str) -> Json:
    """`data[key]` when both are JSON objects, else an empty one: fields of a received
    event are read through this, so a string where an object belongs is only missing."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{name} missing")
    return value


def message_id_of(payload: Json) -> str:
    event = payload.get("event")
    message = event.get("message") if isinstance(event, dict) else None
    if not isinstance(message, dict):
        raise MalformedEvent("event.message missing")
    return _string(message.get("message_id"), "message_id")


def sender_and_chat(payload: Json) -> tuple[str, str]:
    """(open id, chat id) of a message event or a card action; empty when absent."""
    event = json_object(payload, "event")
    sender_id = json_object(json_object(event, "sender"), "sender_id")
    operator = json_object(event, "operator")
    open_id = sender_id.get("open_id") or operator.get("open_id") or ""
    message = json_object(event, "message")
    context = json_object(event, "context")
    chat_id = message.get("chat_id") or context.get("open_chat_id") or ""
    return str(open_id)[:128], str(chat_id)[:128]


def _post_text(content: Json, mention_names: dict[str, str], bot_keys: set[str]) -> str:
    """The text of a rich-text (post) message; its body may be per language."""
    body = content if "content" in content else next(iter(content.values()), {})
    lines = [body.get("title") or ""] if isinstance(body, dict) else []
    for paragraph in (body.get("content") if isinstance(body, dict) else None) or []:
        parts = []
        for node in paragraph if isinstance(paragraph, list) else []:
            tag = node.get("tag") if isinstance(node, dict) else None
            if tag in ("text", "a", "md"):
                parts.append(str(node.get("text", "")))
            elif tag == "at":
                key = str(node.get("user_id", ""))
                if key not in bot_keys:
                    parts.append("@" + (node.get("user_name") or mention_names.get(key, "")))
        lines.append("".join(parts))
    return "\n".join(line for line in lines if line.strip())


def parse_message(payload: Json, *, bot_open_id: str) -> IncomingMessage:
    event = payload.get("event")
    if not isinstance(event, dict):
        raise MalformedEvent("event missing")
    message = event.get("message")
    sender = event.get("sender")
    if not isinstance(message, dict) or not isinstance(sender, dict):
        raise MalformedEvent("event.message or event.sender missing")
    open_id = _string(json_object(sender, "sender_id").get("open_id"), "sender open_id")
    listed = message.get("mentions")
    mentions = [m for m in listed if isinstance(m, dict)] if isinstance(listed, list) else []
    bot_keys = {
        str(m.get("key"))
        for m in mentions
        if bot_open_id and json_object(m, "id").get("open_id") == bot_open_id
    }
    names = {str(m.get("key")): str(m.get("name", "")) for m in mentions}
    message_type = _string(message.get("message_type"), "message_type")
    try:
        content = json.loads(message.get("content") or "{}")
    except (TypeError, ValueError):
        raise MalformedEvent("content is not JSON") from None
    text = ""
    if message_type == "text" and isinstance(content, dict):
        text = str(content.get("text", ""))
        for key, name in names.items():
            text = text.replace(key, "" if key in bot_keys else f"@{name}")
    elif message_type == "post" and isinstance(content, dict):
        text = _post_text(content, names, bot_keys)
    return IncomingMessage(
        message_id=_string(message.get("message_id"), "message_id"),
        chat_id=_string(message.get("chat_id"), "chat_id"),
        chat_type=str(message.get("chat_type") or "p2p"),
        open_id=open_id,
        message_type=message_type,
        text=" ".join(text.split()) if message_type == "text" else text.strip(),
        mentions_bot=bool(bot_keys),
    )
