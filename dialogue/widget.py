"""The customer-facing web chat page (the "widget") of a tenant: /chat/<widget_key>/.

A plain page: the browser talks to the chat API (/api/v1/chat/...) with a visitor
token, so the page itself carries nothing but the tenant's public widget key and name.

Framing: tenants embed the chat in an iframe on their own sites (the embed script,
static/dialogue/widget.js), so this one view is exempt from the project-wide
`X-Frame-Options: DENY`; its CSP `frame-ancestors` lists the sites the tenant allows
(`Tenant.widget_frame_ancestors`; none: this site only). The page holds only the
visitor's own anonymous conversation and its requests never send cookies
(static/dialogue/chat/api.js), so a framing site cannot act as a logged-in staff user.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.csp import CSP, build_policy
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from accounts.models import Tenant
from dialogue.models import Role
from helpdesk.config import get_config

POLL_SECONDS = 3

# Set on the response itself, so the project-wide SECURE_CSP does not replace it.
WIDGET_CSP: dict[str, list[str]] = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
}


def widget_strings(*, max_chars: int) -> dict[str, str]:
    """Every string the chat page's scripts (static/dialogue/chat/) show, in the request's
    language."""
    assistant = str(Role.ASSISTANT.label)
    return {
        "assistant": assistant,
        # The assistant's avatar: "AI" reads the same in both languages.
        "assistant_initial": "AI",
        "agent": str(Role.AGENT.label),
        "you": _("You"),
        "typing": _("The assistant is typing…"),
        "agent_typing": _("%(name)s is typing…"),
        "connecting": _("Connecting…"),
        "assistant_online": _("AI assistant · online"),
        "agent_answering": _("%(name)s · support team"),
        "waiting_for_agent": _("Waiting for a support agent"),
        "connecting_in": _("Could not connect. Trying again in %(seconds)s s…"),
        "reconnecting_in": _("The connection was lost. Reconnecting in %(seconds)s s…"),
        "reconnecting": _("Reconnecting…"),
        "offline": _("You are offline. What you write is sent as soon as the connection is back."),
        "offline_action": _("You are offline. Try again when the connection is back."),
        "connect_failed": _("Could not connect to the chat. Reload the page to try again."),
        "forbidden": _("This site may not open the chat."),
        "sending": _("Sending…"),
        "waiting_to_send": _("Waiting for the connection…"),
        "network_error": _(
            "Network error: your message was not sent. Check your connection and try again."
        ),
        "stream_interrupted": _("The connection was interrupted; the reply may be incomplete."),
        "answer_failed": _("The answer could not be completed."),
        "interrupted": _("The connection dropped while this answer was written."),
        "answer_interrupted_empty": _("(The answer was interrupted.)"),
        "server_error": _("The service is not available right now."),
        "generic_error": _("Something went wrong. Please try again."),
        "too_long": _("Your message is too long (at most %(limit)s characters).")
        % {"limit": max_chars},
        "sources": _("Sources:"),
        "source_marker": _("Knowledge entry #%(id)s"),
        "low_confidence": _("This answer may not be accurate."),
        "kb_only": _("Answered from the knowledge base only."),
        "talk_to_person": _("Talk to a person"),
        "rate_answer": _("Was this answer helpful?"),
        "helpful": _("Helpful"),
        "not_helpful": _("Not helpful"),
        "feedback_thanks": _("Thanks for your feedback."),
        "handed_off": _("You are now talking to a person. A support agent will reply here."),
        "handed_off_order": _(
            "You are now talking to a person (work order %(number)s). "
            "A support agent will reply here."
        ),
        "handed_off_agent": _("%(name)s from our support team is answering you."),
        "nobody_online": _(
            "No one from our support team is online right now. Your request is saved as "
            "work order %(number)s and an agent will reply in this chat when they are back. "
            "You may close this page: open it again on this device to read the answer."
        ),
        "rating_thanks": _("Thank you for rating this conversation."),
    }


def widget_config(tenant: Tenant, *, max_chars: int) -> dict[str, Any]:
    return {
        "widgetKey": tenant.widget_key,
        "language": get_language(),
        "maxChars": max_chars,
        "pollSeconds": POLL_SECONDS,
        "urls": {
            "visitorToken": reverse("chat-visitor-token"),
            "sessions": reverse("chat-session-list"),
            "socket": "/ws/chat/",
        },
    }


@xframe_options_exempt
@require_safe
def widget_page(request: HttpRequest, widget_key: str) -> HttpResponse:
    tenant = get_object_or_404(Tenant, widget_key=widget_key, is_active=True)
    max_chars = get_config().get("dialogue.max_message_chars")
    context = {
        "tenant_name": tenant.name,
        "widget_config": widget_config(tenant, max_chars=max_chars),
        "widget_strings": widget_strings(max_chars=max_chars),
    }
    response = render(request, "dialogue/widget.html", context)
    policy = {**WIDGET_CSP, "frame-ancestors": tenant.frame_ancestors()}
    response[CSP.HEADER_ENFORCE] = build_policy(policy)
    return response
