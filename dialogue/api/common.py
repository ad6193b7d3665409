"""What the chat views share: authentication, permissions, the customer's message in a
request, and the pipeline's refusals as API errors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings

from dialogue import pipeline
from dialogue.api.serializers import SendMessageSerializer
from dialogue.authentication import Visitor, VisitorTokenAuthentication
from dialogue.models import ChatSession
from helpdesk.api.permissions import ReadOrAgent

CHAT_AUTHENTICATION = [VisitorTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
# Django's views may run inside a transaction (tests do) and on any database: the ORM store.
TURN_STORE = pipeline.OrmTurnStore()


class Conflict(exceptions.APIException):
    """409; `fields` go into the error envelope as they are."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the state of the resource.")
    default_code = "conflict"

    def __init__(self, detail: Any = None, code: str | None = None, fields: Any = None) -> None:
        super().__init__(detail, code)
        self.fields = fields or {}


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is not available right now.")
    default_code = "unavailable"


CONFLICT = OpenApiResponse(
    description=_(
        "The session has ended (code session_ended), or the same client_message_id is still "
        "being answered (code duplicate; error.fields.original_message is the id of the "
        "message being answered: its answer appears in the session's history when ready)."
    )
)


def api_error(exc: pipeline.PipelineError) -> exceptions.APIException:
    if isinstance(exc, pipeline.InvalidMessage):
        return exceptions.ValidationError({exc.field: [exc.message]})
    if isinstance(exc, pipeline.SessionNotFound):
        return exceptions.NotFound(exc.message)
    if isinstance(exc, pipeline.TooManyRequests):
        return exceptions.Throttled(wait=exc.retry_after)
    if isinstance(exc, pipeline.DuplicateInFlight):
        return Conflict(exc.message, code=exc.code, fields={"original_message": exc.original_id})
    return Conflict(exc.message, code=exc.code)


def incoming_message(request: Any, session: ChatSession) -> pipeline.IncomingMessage:
    """The customer message in the request body, for `session` (400 if the body is bad)."""
    body = SendMessageSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return pipeline.IncomingMessage(
        tenant_id=request.tenant.pk,
        channel=session.channel,
        external_user_id=session.external_user_id,
        content=body.validated_data["content"],
        channel_message_id=body.validated_data.get("client_message_id", ""),
        session_id=session.pk,
    )


class ChatParticipant(BasePermission):
    """Visitors (their own sessions), viewers (read) and agents (read and write)."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, Visitor):
            return getattr(request, "tenant", None) is not None and view.visitor_allowed
        return ReadOrAgent().has_permission(request, view)
