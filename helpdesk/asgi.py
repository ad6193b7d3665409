"""ASGI entry point: HTTP through Django (web visitors' chat streams through the fast
path in front of it, `dialogue.fast_stream`), WebSockets through Channels."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.core.exceptions import ImproperlyConfigured

MISSING_SECRET_KEY = (
    "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random string "
    "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'). "
    "Only DEBUG=1 runs without it."
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
django_asgi_app = get_asgi_application()
# Stop here rather than at the first signed value: Django checks the key only when read.
try:
    missing_secret_key = not settings.SECRET_KEY
except ImproperlyConfigured:
    missing_secret_key = True
if missing_secret_key:
    raise ImproperlyConfigured(MISSING_SECRET_KEY)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from dialogue.fast_stream import ChatStreamFastPath  # noqa: E402
from feishu.fast_callback import FeishuCallbackFastPath  # noqa: E402
from helpdesk import async_db  # noqa: E402
from helpdesk.cache import SharedClientRedisCache  # noqa: E402
from helpdesk.lifespan import lifespan_closing  # noqa: E402
from helpdesk.request_limits import RequestBodyLimit  # noqa: E402
from helpdesk.routing import websocket_urlpatterns  # noqa: E402
from llm.client import get_llm_client  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(FeishuCallbackFastPath(ChatStreamFastPath(django_asgi_app))),
        "lifespan": lifespan_closing(
            async_db.close_pool,
            SharedClientRedisCache.aclose_async_clients,
            get_llm_client().aclose,
        ),
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
