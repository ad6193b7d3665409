"""AI suggestions in the admin's work-order page: generate one, see the history, record the
resolution staff applied (with its similarity), approve it into the knowledge base or
reject it, without leaving the page.

This is the one module of the work-order admin that calls the dialogue app's suggestion
service (`dialogue.suggestions`). Its prompt has no VIN or module of its own yet, so the
work order is handed over with both written at the head of its description (in memory
only; nothing is saved).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from dialogue.models import SuggestionStatus, WorkOrderSuggestion
from dialogue.suggestions import (
    SuggestionStateError,
    SuggestionUnavailable,
    suggestion_approve,
    suggestion_generate,
    suggestion_record_resolution,
    suggestion_reject,
)
from helpdesk.roles import Role
from workorders.models import WorkOrder

MAX_RESOLUTION = 20000
# The page's script asks for the panel alone with this header.
PANEL_HEADER = "X-Helpdesk-Panel"


def can_act(request: HttpRequest) -> bool:
    """Tenant agents and admins act on suggestions (platform superusers only look)."""
    return bool(request.user.tenant_id) and request.user.has_role(Role.AGENT)


def panel_context(
    request: HttpRequest, work_order: WorkOrder, notice: tuple[int, str] | None = None
) -> dict[str, Any]:
    suggestions = (
        WorkOrderSuggestion.objects.filter(work_order=work_order)
        .select_related("created_by", "reviewed_by", "knowledge_entry")
        .order_by("-created_at", "-id")
    )
    return {
        "work_order": work_order,
        "suggestions": suggestions,
        "can_act": can_act(request),
        "draft": SuggestionStatus.DRAFT,
        "action_url": reverse("admin:workorders_workorder_suggestions", args=[work_order.pk]),
        "notice": notice and {"warning": notice[0] >= messages.WARNING, "text": notice[1]},
    }


def render_panel(
    request: HttpRequest, work_order: WorkOrder, notice: tuple[int, str] | None = None
) -> str:
    return render_to_string(
        "admin/workorders/workorder/suggestions.html",
        panel_context(request, work_order, notice),
        request=request,
    )


def _act(request: HttpRequest, work_order: WorkOrder) -> tuple[str, str]:
    """Run the posted action; returns (message level, message)."""
    action = request.POST.get("action", "")
    if action == "generate":
        try:
            suggestion_generate(work_order=work_order, actor=request.user)
        except SuggestionUnavailable as exc:
            return messages.WARNING, str(exc)
        return messages.SUCCESS, _("A new AI suggestion was added.")
    suggestion = get_object_or_404(
        WorkOrderSuggestion, pk=_id(request.POST.get("suggestion")), work_order=work_order
    )
    try:
        if action == "resolution":
            text = request.POST.get("human_resolution", "").strip()
            if not text or len(text) > MAX_RESOLUTION:
                return messages.WARNING, _(
                    "Write the resolution that was applied (at most %(n)d characters)."
                ) % {"n": MAX_RESOLUTION}
            suggestion_record_resolution(suggestion=suggestion, human_resolution=text)
            return messages.SUCCESS, _("The resolution was recorded.")
        if action == "approve":
            suggestion_approve(suggestion=suggestion, actor=request.user)
            return messages.SUCCESS, _("Approved: a verified knowledge entry was added.")
        if action == "reject":
            suggestion_reject(suggestion=suggestion, actor=request.user)
            return messages.SUCCESS, _("The suggestion was rejected.")
    except SuggestionStateError as exc:
        return messages.WARNING, str(exc)
    return messages.WARNING, _("Unknown action.")


def _id(value: Any) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 19 else 0


def suggestions_view(request: HttpRequest, work_order: WorkOrder) -> HttpResponse:
    """POST an action. The page's script gets the panel back; without script, a redirect."""
    if not can_act(request):
        raise PermissionDenied
    level, text = _act(request, work_order)
    if request.headers.get(PANEL_HEADER):
        return HttpResponse(render_panel(request, work_order, (level, text)))
    messages.add_message(request, level, text)
    return redirect(reverse("admin:workorders_workorder_change", args=[work_order.pk]))
