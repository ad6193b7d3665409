"""A message whose answer streams back as Server-Sent Events."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation

from dialogue import pipeline, selectors
from dialogue.api.common import (
    CHAT_AUTHENTICATION,
    CONFLICT,
    TURN_STORE,
    ChatParticipant,
    api_error,
    incoming_message,
)
from dialogue.api.serializers import (
    SendMessageSerializer,
)
from dialogue.sse import event_stream
from dialogue.throttling import CHAT_THROTTLES
from helpdesk.api.views import (
    TenantGenericAPIView,
)


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
        incoming = incoming_message(request, session)
        try:
            turn = async_to_sync(pipeline.prepare)(incoming, store=TURN_STORE)
        except pipeline.PipelineError as exc:
            raise api_error(exc) from None
        response = StreamingHttpResponse(
            event_stream(turn, store=TURN_STORE), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response
