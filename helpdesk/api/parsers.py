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


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        data = stream.read(limit + 1) if stream is not None else b""
        if limit is not None and len(data) > limit:
            raise RequestTooLarge(
                _("The request body is larger than %(mb)s MB.") % {"mb": round(limit / 2**20, 1)}
            )
        return super().parse(io.BytesIO(data), media_type, parser_context)
