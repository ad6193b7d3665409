"""The staff desk, /desk/: the page in the admin's look whose scripts
(static/dialogue/desk/) follow the tenant's live conversations over `/ws/desk/`.

Anonymous visitors go to the admin's login first. The desk is for a tenant's staff with
a role; others (platform superusers, who belong to no tenant, or staff without a role)
get a page saying why. What a viewer may not do the page hides, and the server refuses
anyway (dialogue.live.desk).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.models import User
from accounts.presence import HEARTBEAT_SECONDS, Presence
from dialogue.desk_strings import desk_strings
from dialogue.live.desk import may_use_desk
from dialogue.models import Channel, HandoffReason, Role, SessionStatus
from helpdesk.roles import Role as StaffRole
from workorders.models import WorkOrder


def _admin_url(name: str) -> str:
    """An admin change page's URL with `{id}` for the object's id."""
    return reverse(name, args=[0]).replace("/0/", "/{id}/")


def desk_config(user: User) -> dict[str, Any]:
    return {
        "language": get_language(),
        "socket": "/ws/desk/",
        "heartbeatSeconds": HEARTBEAT_SECONDS,
        "me": {"id": user.pk, "name": user.get_full_name() or user.username},
        "acts": user.has_role(StaffRole.AGENT),
        "admin": user.has_role(StaffRole.TENANT_ADMIN),
        "urls": {
            "session": _admin_url("admin:dialogue_chatsession_change"),
            "workOrder": _admin_url("admin:workorders_workorder_change"),
        },
        "labels": {
            "status": dict(SessionStatus.choices),
            "handoffReason": dict(HandoffReason.choices),
            "channel": dict(Channel.choices),
            "role": dict(Role.choices),
            "workOrderStatus": dict(WorkOrder.Status.choices),
            "presence": {presence.value: presence.label for presence in Presence},
        },
    }


def _refusal(user: User) -> str:
    if not user.tenant_id:
        return _(
            "The desk is for a tenant's support staff. Platform administrators belong to no "
            "tenant: sign in as a member of the tenant's staff to answer its customers."
        )
    if not user.tenant.is_active:
        return _("Your organisation's account is not active.")
    return _("Your account has no support role. A tenant administrator can give you one.")


@require_safe
@staff_member_required(login_url="admin:login")
def desk_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {**admin.site.each_context(request), "title": _("Live desk")}
    if not may_use_desk(user):
        context["reason"] = _refusal(user)
        return TemplateResponse(request, "dialogue/desk_forbidden.html", context, status=403)
    context["desk_config"] = desk_config(user)
    context["desk_strings"] = desk_strings()
    return TemplateResponse(request, "dialogue/desk.html", context)
