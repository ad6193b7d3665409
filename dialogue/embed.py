"""The chat on a tenant's own site: the sites that may frame the chat page, and the
launcher's words for the embed script (static/dialogue/widget.js).

A tenant lists its sites as full origins in `Tenant.settings["allowed_origins"]`
(`https://shop.example.com`): the chat page lets them frame it (CSP `frame-ancestors`)
and `/ws/chat/` accepts them as origins. Only plain origins are used, so a setting can
never add anything else to the page's security policy.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.models import Tenant

ORIGIN = re.compile(r"^https?://[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$", re.IGNORECASE)


def embedding_origins(tenant: Tenant) -> list[str]:
    """The tenant's sites that may show the chat in a frame (well-formed origins only)."""
    listed = (tenant.settings or {}).get("allowed_origins", [])
    if not isinstance(listed, list):
        return []
    return [origin for origin in listed if isinstance(origin, str) and ORIGIN.match(origin)]


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
