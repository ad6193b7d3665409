"""Chat sessions and their messages: visitor tokens, opening, history, a message with its
whole answer, hand-off, end, feedback, agent replies and answer corrections."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.models import Tenant
from dialogue import pipeline, selectors, services, staff
from dialogue.api.common import (
    CHAT_AUTHENTICATION,
    CONFLICT,
    TURN_STORE,
    ChatParticipant,
    Conflict,
    api_error,
    incoming_message,
)
from dialogue.api.serializers import (
    AgentReplySerializer,
    AnswerCorrectedSerializer,
    AnswerCorrectionSerializer,
    ChatReplySerializer,
    ChatSessionCreateSerializer,
    ChatSessionSerializer,
    FeedbackSerializer,
    MessageFilterSerializer,
    MessageSerializer,
    SendMessageSerializer,
    SessionFilterSerializer,
    VisitorTokenRequestSerializer,
    VisitorTokenSerializer,
)
from dialogue.authentication import Visitor, issue_visitor_token
from dialogue.identity import IdentityRefused, visitor_identity_check
from dialogue.models import Channel, HandoffReason, Message
from dialogue.models import Role as MessageRole
from dialogue.throttling import CHAT_THROTTLES
from helpdesk.api.permissions import IsTenantMember
from helpdesk.api.views import (
    TenantAPIView,
    TenantGenericViewSet,
    TenantReadOnlyViewSet,
)
from helpdesk.config import get_config
from knowledge.models import KnowledgeEntry
from workorders.models import WorkOrder


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
        try:
            visitor_identity_check(
                tenant=tenant,
                visitor_id=visitor_id,
                signature=serializer.validated_data.get("identity_hash", ""),
            )
        except IdentityRefused as exc:
            raise exceptions.ValidationError({exc.field: [exc.message]}) from None
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
        },
        context={"titles": reply.titles},
    ).data


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
            page = self.paginate_queryset(selectors.session_history(session, viewer=request.user))
            return self.get_paginated_response(MessageSerializer(page, many=True).data)
        incoming = incoming_message(request, session)
        try:
            reply = async_to_sync(pipeline.answer)(incoming, store=TURN_STORE)
        except pipeline.PipelineError as exc:
            raise api_error(exc) from None
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
        data = body.validated_data
        entry = _knowledge_entry(data["entry"]) if "entry" in data else None
        try:
            message = staff.reply_add(
                session=session, user=request.user, content=data["content"], entry=entry
            )
        except services.SessionClosed:
            raise Conflict(_("This conversation has ended."), code="session_ended") from None
        except staff.StaffActionRefused as exc:
            raise Conflict(exc.message, code=exc.code) from None
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AnswerCorrectionSerializer,
        responses=AnswerCorrectedSerializer,
        summary="Mark an assistant answer as wrong and name the right knowledge entry",
        description="Adds an internal note and proposes the customer's question as a "
        "similar question of the entry, for approval under /api/v1/knowledge/proposals/.",
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        session = self.get_object()
        body = AnswerCorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        message = session.messages.filter(pk=data["message"], role=MessageRole.ASSISTANT).first()
        if message is None:
            raise exceptions.ValidationError(
                {"message": [_("No answer with this id in this session.")]}
            )
        entry = _knowledge_entry(data["entry"])
        proposal = staff.answer_correct(
            session=session, user=request.user, message=message, entry=entry
        )
        return Response(AnswerCorrectedSerializer({"proposal": proposal}).data)


def _knowledge_entry(entry_id: int) -> KnowledgeEntry:
    entry = KnowledgeEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise exceptions.ValidationError({"entry": [_("No knowledge entry with this id.")]})
    return entry


class ChatMessageViewSet(TenantReadOnlyViewSet):
    """Staff: every message of the tenant, filtered."""

    serializer_class = MessageSerializer
    permission_classes = [IsTenantMember]

    def get_queryset(self):
        return Message.objects.select_related("session", "author").order_by("-created_at", "-id")

    @extend_schema(parameters=[MessageFilterSerializer], summary="List chat messages (staff)")
    def list(self, request, *args, **kwargs):
        filters = MessageFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        messages = selectors.messages_filter(self.get_queryset(), **filters.validated_data)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
