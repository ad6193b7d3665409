"""The callbacks' ASGI fast path: same answers as the Django views, before Django."""

import json

import pytest
from channels.db import database_sync_to_async

from feishu.fast_callback import FeishuCallbackFastPath
from feishu.models import InboundEvent
from feishu.tests.conftest import ENCRYPT_KEY, TOKEN
from feishustub.protocol import message_event, signed_request, url_verification
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


async def inner(scope, receive, send):
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


async def call(path: str, body: bytes = b"", headers=None, method: str = "POST"):
    sent: list[dict] = []
    chunks = [body[:10], body[10:]]

    async def receive():
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    await FeishuCallbackFastPath(inner)(scope, receive, send)
    return sent[0]["status"], sent[1]["body"]


async def test_the_challenge_is_answered(app_a):
    body, headers = signed_request(
        url_verification(token=TOKEN, challenge="c-9"), encrypt_key=ENCRYPT_KEY
    )
    status, answer = await call("/feishu/cli_a/events/", body, headers)
    assert (status, json.loads(answer)) == (200, {"challenge": "c-9"})


async def test_an_event_is_recorded_once(app_a, tenant_a, stub):
    payload = message_event(app_id="cli_a", token=TOKEN, text="你好")
    body, headers = signed_request(payload, encrypt_key=ENCRYPT_KEY)
    for _ in range(2):
        status, _answer = await call("/feishu/cli_a/events/", body, headers)
        assert status == 200

    def recorded():
        with tenant_scope(tenant_a):
            return list(InboundEvent.objects.values_list("deliveries", flat=True))

    assert await database_sync_to_async(recorded)() == [2]


async def test_forged_requests_are_refused(app_a):
    payload = message_event(app_id="cli_a", token=TOKEN, text="你好")
    body, headers = signed_request(payload, encrypt_key="another key")
    status, _answer = await call("/feishu/cli_a/events/", body, headers)
    assert status == 400
    status, _answer = await call("/feishu/cli_nobody/events/", body, headers)
    assert status == 404


async def test_too_large_is_413(app_a):
    status, _answer = await call("/feishu/cli_a/events/", b"x" * (600 * 1024))
    assert status == 413


@pytest.mark.parametrize(
    ("path", "method"),
    [("/feishu/cli_a/events/", "GET"), ("/api/v1/feishu/apps/", "POST"), ("/feishu/a/b/", "POST")],
)
async def test_everything_else_goes_to_django(path, method):
    assert await call(path, method=method) == (299, b"django")
