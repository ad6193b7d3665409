"""HTTP chat API: visitor tokens, sessions, messages (JSON and SSE), hand-off, feedback.

Visitors authenticate with a signed visitor token and reach only their own web
sessions; staff (token or session login) reach every session of their tenant.
Viewers read; agents also write.
"""

from __future__ import annotations

import logging
from typing import Any

from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.models import Tenant
from dialogue import pipeline, selectors, services, suggestions
from dialogue.authentication import Visitor, VisitorTokenAuthentication, issue_visitor_token
from dialogue.models import Channel, ChatSession, HandoffReason, Message, WorkOrderSuggestion
from dialogue.models import Role as MessageRole
from dialogue.serializers import (
    AgentReplySerializer,
    ChatReplySerializer,
    ChatSessionCreateSerializer,
    ChatSessionSerializer,
    FeedbackSerializer,
    MessageFilterSerializer,
    MessageSerializer,
    ResolutionSerializer,
    SendMessageSerializer,
    SessionFilterSerializer,
    SuggestionSerializer,
    VisitorTokenRequestSerializer,
    VisitorTokenSerializer,
)
from dialogue.sse import event_stream
from dialogue.throttling import CHAT_THROTTLES
from helpdesk.api.permissions import IsTenantMember, ReadOrAgent
from helpdesk.api.views import (
    TenantAPIView,
    TenantGenericAPIView,
    TenantGenericViewSet,
    TenantReadOnlyViewSet,
)
from helpdesk.config import get_config
from helpdesk.db import release_pooled_connections
from workorders.models import WorkOrder

logger = logging.getLogger(__name__)

CHAT_AUTHENTICATION = [VisitorTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the state of the resource.")
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The service is not available right now.")
    default_code = "unavailable"


CONFLICT = OpenApiResponse(description=_("The session has ended, or the message is in flight."))


def _pipeline_error(exc: pipeline.PipelineError) -> exceptions.APIException:
    if isinstance(exc, pipeline.InvalidMessage):
        return exceptions.ValidationError({exc.field: [exc.message]})
    return Conflict(exc.message, code=exc.code)


class ChatParticipant(BasePermission):
    """Visitors (their own sessions), viewers (read) and agents (read and write)."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.user, Visitor):
            return getattr(request, "tenant", None) is not None and view.visitor_allowed
        return ReadOrAgent().has_permission(request, view)


class VisitorTokenView(TenantAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=VisitorTokenRequestSerializer,
        responses={201: VisitorTokenSerializer},
        summary="Get a web-chat visitor token",
        description="Trade the tenant's public widget key and a visitor id for a signed token.",
        auth=[],
    )
    def post(self, request):
        serializer = VisitorTokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        tenant = Tenant.objects.filter(
            widget_key=serializer.validated_data["widget_key"], is_active=True
        ).first()
        if tenant is None:
            raise exceptions.ValidationError({"widget_key": [_("Unknown widget key.")]})
        visitor_id = serializer.validated_data["visitor_id"]
        data = {
            "token": issue_visitor_token(tenant=tenant, visitor_id=visitor_id),
            "expires_in": get_config().get("dialogue.visitor_token_max_age_seconds"),
            "visitor_id": visitor_id,
        }
        return Response(VisitorTokenSerializer(data).data, status=status.HTTP_201_CREATED)


def _reply_data(reply: pipeline.Reply) -> dict:
    return ChatReplySerializer(
        {
            "session": reply.session,
            "message": reply.user_message,
            "answer": reply.answer,
            "duplicate": reply.duplicate,
            "handed_off": reply.handed_off,
        }
    ).data


def _message_for(request, session: ChatSession) -> dict[str, Any]:
    """The pipeline's arguments for the customer message in the request body (400 if bad)."""
    body = SendMessageSerializer(data=request.data)
    body.is_valid(raise_exception=True)
    return {
        "tenant": request.tenant,
        "content": body.validated_data["content"],
        "channel_message_id": body.validated_data.get("client_message_id", ""),
        "session": session,
        "channel": session.channel,
        "external_user_id": session.external_user_id,
    }


class ChatSessionViewSet(mixins.RetrieveModelMixin, TenantGenericViewSet):
    """Chat sessions; `visitor_allowed` marks the actions a web visitor may call."""

    serializer_class = ChatSessionSerializer
    authentication_classes = CHAT_AUTHENTICATION
    permission_classes = [ChatParticipant]
    throttle_classes = CHAT_THROTTLES
    VISITOR_ACTIONS = {"create", "retrieve", "messages", "handoff", "end", "feedback"}

    @property
    def visitor_allowed(self) -> bool:
        return self.action in self.VISITOR_ACTIONS

    def get_queryset(self):
        return selectors.sessions_visible_to(self.request.user)

    @extend_schema(
        parameters=[SessionFilterSerializer],
        responses=ChatSessionSerializer(many=True),
        summary="List chat sessions (staff)",
        description="Filters: channel, status, handed_off, low_confidence (has a low-confidence "
        "answer), since/until (dates), external_user_id, work_order, q (conversation search).",
    )
    def list(self, request):
        filters = SessionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        sessions = selectors.sessions_filter(self.get_queryset(), **filters.validated_data)
        page = self.paginate_queryset(sessions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=ChatSessionCreateSerializer,
        responses={201: ChatSessionSerializer, 200: ChatSessionSerializer},
        summary="Open a chat session",
        description="Visitors get their open web session (201 when new, 200 when resumed). "
        "Staff open an API-channel session for external_user_id.",
    )
    def create(self, request):
        body = ChatSessionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        work_order = None
        if isinstance(user, Visitor):
            channel, external_user_id = Channel.WEB, user.visitor_id
        else:
            if not data.get("external_user_id"):
                raise exceptions.ValidationError(
                    {"external_user_id": [_("Staff must name the customer.")]}
                )
            channel, external_user_id = Channel.API, data["external_user_id"]
            if data.get("work_order"):
                work_order = WorkOrder.objects.filter(pk=data["work_order"]).first()
                if work_order is None:
                    raise exceptions.ValidationError({"work_order": [_("No such work order.")]})
        session, created = services.session_open(
            channel=channel, external_user_id=external_user_id, work_order=work_order
        )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self.get_serializer(session).data, status=code)

    @extend_schema(
        methods=["GET"],
        responses=MessageSerializer(many=True),
        summary="Conversation history",
    )
    @extend_schema(
        methods=["POST"],
        request=SendMessageSerializer,
        responses={200: ChatReplySerializer, 409: CONFLICT},
        summary="Send a message and get the whole answer",
    )
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk=None):
        session = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(selectors.session_history(session))
            return self.get_paginated_response(MessageSerializer(page, many=True).data)
        message = _message_for(request, session)
        try:
            reply = pipeline.handle_message(**message)
        except pipeline.PipelineError as exc:
            raise _pipeline_error(exc) from None
        return Response(_reply_data(reply))

    @extend_schema(
        request=None,
        responses={200: ChatSessionSerializer, 409: CONFLICT},
        summary="Hand the session over to a person",
    )
    @action(detail=True, methods=["post"])
    def handoff(self, request, pk=None):
        session = self.get_object()
        try:
            session = services.session_handoff(
                session=session,
                reason=HandoffReason.REQUEST,
                actor=None if isinstance(request.user, Visitor) else request.user,
            )
        except services.SessionClosed:
            raise Conflict(_("This conversation has ended."), code="session_ended") from None
        return Response(self.get_serializer(session).data)

    @extend_schema(request=None, responses=ChatSessionSerializer, summary="End the session")
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        session = services.session_end(session=self.get_object())
        return Response(self.get_serializer(session).data)

    @extend_schema(
        request=FeedbackSerializer,
        responses=ChatSessionSerializer,
        summary="Rate the session (1-5) or an answer (1-5 or thumbs)",
    )
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        session = self.get_object()
        body = FeedbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "message" in data:
            message = session.messages.filter(
                pk=data["message"], role=MessageRole.ASSISTANT
            ).first()
            if message is None:
                raise exceptions.ValidationError(
                    {"message": [_("No answer with this id in this session.")]}
                )
            thumbs = data.get("thumbs")
            services.message_feedback(
                message=message,
                rating=data.get("rating"),
                thumbs_up=None if thumbs is None else thumbs == "up",
            )
        else:
            session = services.session_rate(session=session, rating=data["rating"])
        return Response(self.get_serializer(session).data)

    @extend_schema(
        request=AgentReplySerializer,
        responses={201: MessageSerializer, 409: CONFLICT},
        summary="Answer the customer as a support agent",
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        session = self.get_object()
        body = AgentReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            message = services.message_add_agent_reply(
                session=session, author=request.user, content=body.validated_data["content"]
            )
        except services.SessionClosed:
            raise Conflict(_("This conversation has ended."), code="session_ended") from None
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class JSONErrorsNegotiation(DefaultContentNegotiation):
    """The stream's errors are JSON envelopes, whatever the client accepts.

    Streaming clients send `Accept: text/event-stream`, which no DRF renderer offers;
    default negotiation would answer 406 instead of the real error.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ChatStreamView(TenantGenericAPIView):
    """POST a message; the answer comes back as Server-Sent Events.

    A sync view with an async body: authentication, validation and saving the
    customer's message run in the request's worker thread with the rest of the view
    (so errors are ordinary JSON envelopes); the answer then streams from the event
    loop (Django iterates an async StreamingHttpResponse there under ASGI). Events:
    `delta` {text}, then one `done` {session, message, answer, text, citations,
    confidence, usage, ...} (or `error`).
    """

    authentication_classes = CHAT_AUTHENTICATION
    permission_classes = [ChatParticipant]
    throttle_classes = CHAT_THROTTLES
    serializer_class = SendMessageSerializer
    content_negotiation_class = JSONErrorsNegotiation
    visitor_allowed = True

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            release_pooled_connections()

    @extend_schema(
        request=SendMessageSerializer,
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="Server-Sent Events: delta..., then done."
            ),
            409: CONFLICT,
        },
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        summary="Send a message; stream the answer (SSE)",
    )
    def post(self, request, pk: str):
        session = get_object_or_404(selectors.sessions_visible_to(request.user), pk=pk)
        message = _message_for(request, session)
        try:
            turn = pipeline.prepare_turn(**message)
        except pipeline.PipelineError as exc:
            raise _pipeline_error(exc) from None
        response = StreamingHttpResponse(event_stream(turn), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


class ChatMessageViewSet(TenantReadOnlyViewSet):
    """Staff: every message of the tenant, filtered."""

    serializer_class = MessageSerializer
    permission_classes = [IsTenantMember]

    def get_queryset(self):
        return Message.objects.select_related("session").order_by("-created_at", "-id")

    @extend_schema(parameters=[MessageFilterSerializer], summary="List chat messages (staff)")
    def list(self, request, *args, **kwargs):
        filters = MessageFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        messages = selectors.messages_filter(self.get_queryset(), **filters.validated_data)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _work_order(pk: Any):
    return get_object_or_404(WorkOrder.objects.all(), pk=pk)


class WorkOrderConversationView(TenantGenericAPIView):
    serializer_class = MessageSerializer
    permission_classes = [IsTenantMember]

    @extend_schema(
        responses=MessageSerializer(many=True),
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        summary="The chat conversation that led to a work order",
    )
    def get(self, request, pk: str):
        work_order = _work_order(pk)
        page = self.paginate_queryset(selectors.work_order_conversation(work_order.pk))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)


class WorkOrderSuggestionView(TenantGenericAPIView):
    serializer_class = SuggestionSerializer
    permission_classes = [ReadOrAgent]

    @extend_schema(
        responses=SuggestionSerializer(many=True),
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        summary="AI suggestions of a work order",
    )
    def get(self, request, pk: str):
        work_order = _work_order(pk)
        suggestions_qs = WorkOrderSuggestion.objects.filter(work_order=work_order)
        page = self.paginate_queryset(suggestions_qs)
        return self.get_paginated_response(SuggestionSerializer(page, many=True).data)

    @extend_schema(
        request=None,
        responses={201: SuggestionSerializer, 503: OpenApiResponse(description="No suggestion.")},
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        summary="Generate an AI suggestion for a work order",
    )
    def post(self, request, pk: str):
        work_order = _work_order(pk)
        try:
            suggestion = suggestions.suggestion_generate(work_order=work_order, actor=request.user)
        except suggestions.SuggestionUnavailable as exc:
            raise ServiceUnavailable(str(exc)) from None
        return Response(SuggestionSerializer(suggestion).data, status=status.HTTP_201_CREATED)


class SuggestionViewSet(mixins.RetrieveModelMixin, TenantGenericViewSet):
    """Review AI suggestions: record the human resolution, approve or reject."""

    serializer_class = SuggestionSerializer
    permission_classes = [ReadOrAgent]

    def get_queryset(self):
        return WorkOrderSuggestion.objects.all()

    @extend_schema(request=ResolutionSerializer, summary="Record the human resolution")
    @action(detail=True, methods=["post"])
    def resolution(self, request, pk=None):
        body = ResolutionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        suggestion = suggestions.suggestion_record_resolution(
            suggestion=self.get_object(),
            human_resolution=body.validated_data["human_resolution"],
        )
        return Response(self.get_serializer(suggestion).data)

    @extend_schema(
        request=None,
        responses={200: SuggestionSerializer, 409: CONFLICT},
        summary="Approve: turn it into a verified knowledge entry",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        try:
            suggestion = suggestions.suggestion_approve(
                suggestion=self.get_object(), actor=request.user
            )
        except suggestions.SuggestionStateError as exc:
            raise Conflict(str(exc)) from None
        return Response(self.get_serializer(suggestion).data)

    @extend_schema(
        request=None, responses={200: SuggestionSerializer, 409: CONFLICT}, summary="Reject"
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        try:
            suggestion = suggestions.suggestion_reject(
                suggestion=self.get_object(), actor=request.user
            )
        except suggestions.SuggestionStateError as exc:
            raise Conflict(str(exc)) from None
        return Response(self.get_serializer(suggestion).data)
