"""WebSocket routes; each app appends its own consumers here."""

websocket_urlpatterns: list = []
