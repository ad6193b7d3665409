"""A conversation as text: for work orders and for the LLM's hand-off summary."""

from __future__ import annotations

from django.utils import timezone

from dialogue.models import ChatSession, Message, Role

TRANSCRIPT_ROLES = {
    Role.USER: "客户",
    Role.ASSISTANT: "AI 助手",
    Role.AGENT: "人工客服",
    Role.SYSTEM: "系统",
}


def transcript_line(message: Message) -> str:
    stamp = timezone.localtime(message.created_at).strftime("%Y-%m-%d %H:%M:%S")
    return f"[{stamp}] {TRANSCRIPT_ROLES[message.role]}：{message.content}"


def transcript(session: ChatSession) -> str:
    return "\n".join(map(transcript_line, session.messages.order_by("created_at", "id")))
