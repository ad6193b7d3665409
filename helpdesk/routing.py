"""WebSocket routes of the ASGI application (part of the composition root, with asgi).

The customer's chat authenticates with its visitor token in its first frame and checks
the page's origin against the tenant's sites itself; the staff desk uses the admin's
session and accepts only our own hosts as origins.
"""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from channels.sessions import CookieMiddleware
from django.urls import path

from dialogue.live.customer import CustomerConsumer
from dialogue.live.desk import DeskConsumer
from helpdesk.channels_middleware import TenantScopeMiddleware

websocket_urlpatterns = [
    path("ws/chat/", CookieMiddleware(CustomerConsumer.as_asgi())),
    path(
        "ws/desk/",
        AllowedHostsOriginValidator(
            AuthMiddlewareStack(TenantScopeMiddleware(DeskConsumer.as_asgi()))
        ),
    ),
]
