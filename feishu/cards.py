"""Interactive cards: the answer card (streamed, then final with sources and buttons)
and the alert card. Card JSON follows the open platform's message-card format."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

Json = dict[str, Any]
MAX_MARKDOWN = 8000


def _button(label: str, value: Json, kind: str = "default") -> Json:
    return {
        "tag": "button",
        "text": {"tag": "plain_text", "content": label},
        "type": kind,
        "value": value,
    }


def _card(title: str, template: str, elements: list[Json]) -> Json:
    return {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": template},
        "elements": elements,
    }


def answer_card(
    *,
    text: str,
    sources: list[str] | None = None,
    answer_id: int | None = None,
    session_id: int | None = None,
    final: bool = True,
    handed_off: bool = False,
) -> Json:
    body = text[:MAX_MARKDOWN] or "…"
    elements: list[Json] = [{"tag": "markdown", "content": body}]
    if sources:
        label = _("Sources: %(titles)s") % {"titles": "；".join(sources)}
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": label}]})
    if not final:
        typing = _("Answering…")
        elements.append({"tag": "note", "elements": [{"tag": "plain_text", "content": typing}]})
    elif answer_id is not None and not handed_off:
        elements.append(
            {
                "tag": "action",
                "actions": [
                    _button(_("Helpful"), {"action": "helpful", "answer": answer_id}, "primary"),
                    _button(_("Not helpful"), {"action": "not_helpful", "answer": answer_id}),
                    _button(
                        _("Talk to a person"),
                        {"action": "handoff", "session": session_id},
                        "danger",
                    ),
                ],
            }
        )
    return _card(_("AI assistant"), "blue", elements)


def alert_card(*, title: str, message: str, level: str, resolved: bool, alert_id: int) -> Json:
    if resolved:
        heading = _("Resolved: %(title)s") % {"title": title}
        return _card(heading, "green", [{"tag": "markdown", "content": message}])
    template = {"critical": "red", "error": "red", "warning": "orange"}.get(level, "blue")
    elements: list[Json] = [
        {"tag": "markdown", "content": message},
        {
            "tag": "action",
            "actions": [
                _button(_("Acknowledge"), {"action": "ack_alert", "alert": alert_id}, "primary")
            ],
        },
    ]
    return _card(_("Alert: %(title)s") % {"title": title}, template, elements)
