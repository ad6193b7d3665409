"""The launcher's words for the embed script (static/dialogue/widget.js), which shows
the chat on a tenant's own site.

The sites a tenant lists in `Tenant.widget_frame_ancestors` may frame the chat page (CSP
`frame-ancestors`, dialogue.widget) and open `/ws/chat/` (dialogue.live.customer).
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.models import Tenant


@require_safe
@vary_on_headers("Accept-Language")
@cache_control(public=True, max_age=3600)
def launcher_labels(request: HttpRequest, widget_key: str) -> JsonResponse:
    """The launcher's words in the visitor's language; public, for any site."""
    tenant = get_object_or_404(Tenant, widget_key=widget_key, is_active=True)
    response = JsonResponse(
        {
            "open": _("Chat with us"),
            "close": _("Close the chat"),
            "title": _("%(name)s · Online support") % {"name": tenant.name},
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response
