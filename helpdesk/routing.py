"""WebSocket routes of the ASGI application (helpdesk.asgi)."""

websocket_urlpatterns: list = []
