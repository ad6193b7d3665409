"""The response envelope: {success, data, meta} or {success: false, error}."""

from typing import Any

from django.conf import settings
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer


def success_envelope(data: Any, meta: dict | None = None) -> dict:
    return {"success": True, "data": data, "meta": meta or {}}


def is_error_envelope(data: Any) -> bool:
    return isinstance(data, dict) and data.get("success") is False and "error" in data


class EnvelopeJSONRenderer(JSONRenderer):
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type=None, renderer_context=None) -> bytes:
        response = (renderer_context or {}).get("response")
        if response is None:
            return super().render(data, accepted_media_type, renderer_context)
        if response.status_code >= 400:
            if not is_error_envelope(data):
                data = {
                    "success": False,
                    "error": {"code": "error", "message": str(data), "fields": {}},
                }
        elif response.status_code != 204:
            data = success_envelope(data, getattr(response, "envelope_meta", None))
        else:
            return b""
        return super().render(data, accepted_media_type, renderer_context)


class StaffBrowsableAPIRenderer(BrowsableAPIRenderer):
    """The browsable API, for logged-in staff only; everyone else gets JSON.

    DRF's pages position a few elements with inline style attributes, so their
    Content-Security-Policy allows inline styles; scripts stay files of our own.
    """

    def render(self, data: Any, accepted_media_type=None, renderer_context=None):
        request = (renderer_context or {}).get("request")
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and user.is_staff):
            renderer_context["response"]["Content-Type"] = "application/json"
            return EnvelopeJSONRenderer().render(data, "application/json", renderer_context)
        renderer_context["response"]._csp_config = {
            **settings.SECURE_CSP,
            "style-src": ["'self'", "'unsafe-inline'"],
        }
        return super().render(data, accepted_media_type, renderer_context)
