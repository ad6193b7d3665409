"""One error shape for every failure under /api/: {success: false, error: {...}}."""

import logging
import sys

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from helpdesk.api.parsers import RequestTooLarge
from helpdesk.import_limits import ImportBusy
from helpdesk.outages import Outage, log_outage, outage_of
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


RETRY_AFTER_SECONDS = 5


class TooManyImports(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "imports_busy"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"


def _unavailable(kind: Outage) -> ServiceUnavailable:
    error = ServiceUnavailable(
        _("The service is temporarily unavailable. Please try again shortly."),
        code=f"{kind.value}_unavailable",
    )
    error.wait = RETRY_AFTER_SECONDS
    return error


def _bad_input(exc: Exception) -> exceptions.APIException | None:
    """A 4xx for Django's refusals of a request's body (size, fields, encoding)."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge(_("The request body is too large."))
    if isinstance(exc, SuspiciousOperation | BadRequest):
        # Django's text can name server paths (file uploads): it stays in the log.
        logger.warning("Request body refused: %s: %s", type(exc).__name__, exc)
        return exceptions.ParseError(_("The request could not be read."))
    return None


def envelope_exception_handler(exc: Exception, context: dict) -> Response:
    if (kind := outage_of(exc)) is not None:
        log_outage(kind, exc, where=type(context.get("view")).__name__)
        set_rollback()
        exc = _unavailable(kind)
    elif (refusal := _bad_input(exc)) is not None:
        exc = refusal
    elif isinstance(exc, ImportBusy):
        exc = TooManyImports(str(exc))
    elif isinstance(exc, Http404):
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


def json_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's refusals outside DRF (too many fields, too big, bad multipart): 400, or
    413 for a body over the size limits."""
    too_big = isinstance(exception, RequestDataTooBig)
    status_code = 413 if too_big else 400
    if _is_api(request):
        code, message = (
            ("request_too_large", _("The request body is too large."))
            if too_big
            else ("bad_request", _("The request could not be read."))
        )
        return JsonResponse(error_body(code, message), status=status_code)
    response = bad_request(request, exception)
    response.status_code = status_code
    return response


def json_404(request: HttpRequest, exception: Exception | None = None):
    if _is_api(request):
        return JsonResponse(error_body("not_found", _("Not found.")), status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def json_500(request: HttpRequest):
    """500, or 503 when the database or the cache is down (Django calls this while
    handling the exception, so it is still the current one)."""
    if (kind := outage_of(sys.exc_info()[1])) is not None:
        message = _("The service is temporarily unavailable. Please try again shortly.")
        if _is_api(request):
            response = JsonResponse(error_body(f"{kind.value}_unavailable", message), status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if _is_api(request):
        return JsonResponse(
            error_body("server_error", _("Internal server error. The error has been logged.")),
            status=500,
        )
    from django.views.defaults import server_error

    return server_error(request)
