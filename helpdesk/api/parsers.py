"""DRF parsers with the body limits Django applies to forms.

DRF's JSON parser reads the request stream directly, past Django's
DATA_UPLOAD_MAX_MEMORY_SIZE check of `request.body`; this one applies it.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def too_large_message(limit: int) -> str:
    """The answer to a body over `limit` bytes (here and in helpdesk.request_limits)."""
    return _("The request body is larger than %(mb)s MB.") % {"mb": round(limit / 2**20, 1)}


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is None:
            data = b""
        elif limit is None:  # Django's "no limit"
            data = stream.read()
        else:
            data = stream.read(limit + 1)
            if len(data) > limit:
                raise RequestTooLarge(too_large_message(limit))
        return super().parse(io.BytesIO(data), media_type, parser_context)
