from django.urls import path
from rest_framework.routers import SimpleRouter

from dialogue.api.identity import IdentitySecretView
from dialogue.api.sessions import ChatMessageViewSet, ChatSessionViewSet, VisitorTokenView
from dialogue.api.stream import ChatStreamView
from dialogue.api.suggestions import (
    SuggestionViewSet,
    WorkOrderConversationView,
    WorkOrderSuggestionView,
)

router = SimpleRouter()
router.register("chat/sessions", ChatSessionViewSet, basename="chat-session")
router.register("chat/messages", ChatMessageViewSet, basename="chat-message")
router.register("workorder-suggestions", SuggestionViewSet, basename="workorder-suggestion")

urlpatterns = [
    path("chat/visitor-token/", VisitorTokenView.as_view(), name="chat-visitor-token"),
    path("chat/identity-secret/", IdentitySecretView.as_view(), name="chat-identity-secret"),
    path("chat/sessions/<int:pk>/stream/", ChatStreamView.as_view(), name="chat-session-stream"),
    path(
        "workorders/<int:pk>/suggestion/",
        WorkOrderSuggestionView.as_view(),
        name="workorder-suggestion-generate",
    ),
    path(
        "workorders/<int:pk>/conversation/",
        WorkOrderConversationView.as_view(),
        name="workorder-conversation",
    ),
    *router.urls,
]
