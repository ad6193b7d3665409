"""One error shape for every failure under /api/: {success: false, error: {...}}."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from helpdesk.tenancy import TenantScopeError

logger = logging.getLogger("helpdesk.api")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"success": False, "error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _flatten_value(value) for key, value in detail.items()}
    return {}


def _flatten_value(value):
    if isinstance(value, dict):
        return _flatten(value)
    if isinstance(value, list):
        return [_flatten_value(v) for v in value]
    return str(value)


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            message = _first_message(value)
            if key in ("non_field_errors", "__all__"):
                return message
            return f"{key}: {message}"
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))

    if not isinstance(exc, exceptions.APIException):
        if isinstance(exc, TenantScopeError):
            logger.error("Tenant scope violation: %s", exc, exc_info=exc)
        else:
            logger.exception("Unhandled error in %s", context.get("view"), exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", _("Internal server error. The error has been logged.")),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(detail) if isinstance(detail, dict) else {}
        message = _first_message(detail) or _("Invalid input.")
        code = "invalid"
    else:
        fields = getattr(exc, "fields", None) or {}
        message = str(detail) if not isinstance(detail, (dict, list)) else _first_message(detail)
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
    if isinstance(exc, exceptions.Throttled) and exc.wait and "login" not in code:
        message = _("Too many requests. Try again in %(seconds)d seconds.") % {
            "seconds": int(exc.wait)
        }
    set_rollback()
    return Response(error_body(code, message, fields), status=exc.status_code, headers=headers)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def json_404(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_500(request: HttpRequest):
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", _("Internal server error. The error has been logged.")),
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)
