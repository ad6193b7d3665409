"""The long connection: the SDK's own WebSocket client, connected to the stub, feeds the
same intake as the HTTP callback."""

import asyncio
import base64
import contextlib
import json
import threading
import time

import pytest
from lark_oapi.ws import client as ws_module

from dialogue.models import Message
from feishu.longconn import LongConnection
from feishu.models import InboundEvent
from feishu.tests.conftest import TOKEN
from feishustub.protocol import card_action, message_event
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert condition()


@pytest.fixture
def connected(app_a, stub, monkeypatch):
    """The SDK's client of app A in a thread. The SDK runs every client on one module-level
    event loop; each test gets a fresh one, so nothing of a previous test runs on it."""
    loop = asyncio.new_event_loop()
    monkeypatch.setattr(ws_module, "loop", loop)
    sdk = LongConnection(app_a).client()

    def run() -> None:
        asyncio.set_event_loop(loop)
        with contextlib.suppress(RuntimeError):  # "Event loop stopped": the test is over
            sdk.start()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_for(lambda: stub.connections() == 1)
    yield sdk
    sdk._auto_reconnect = False
    stub.drop_connections()
    wait_for(lambda: stub.connections() == 0)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()


def test_a_message_over_the_long_connection_is_answered_once(connected, stub, tenant_a):
    payload = message_event(app_id="cli_a", token=TOKEN, text="怎么退款")
    ack = stub.push_event(payload)
    assert ack["code"] == 200
    stub.push_event(payload)
    wait_for(lambda: len(stub.state.sent) == 1)
    with tenant_scope(tenant_a):
        event = InboundEvent.objects.get()
        assert event.via == "websocket" and event.deliveries == 2
        assert Message.objects.filter(role="user").count() == 1


def test_a_card_action_gets_its_toast_back(connected, stub, tenant_a):
    stub.push_event(message_event(app_id="cli_a", token=TOKEN, text="怎么退款"))
    wait_for(lambda: len(stub.state.sent) == 1)
    with tenant_scope(tenant_a):
        answer = Message.objects.get(role="assistant")
    value = {"action": "helpful", "answer": answer.pk}
    ack = stub.push_event(card_action(app_id="cli_a", token=TOKEN, value=value))
    assert ack["code"] == 200
    body = json.loads(base64.b64decode(ack["data"]))
    assert body["toast"]["type"] == "success"
    with tenant_scope(tenant_a):
        assert Message.objects.get(pk=answer.pk).thumbs_up is True


def test_the_client_reconnects_by_itself(connected, stub, tenant_a):
    stub.drop_connections()
    wait_for(lambda: stub.connections() == 1, timeout=15)
    ack = stub.push_event(message_event(app_id="cli_a", token=TOKEN, text="还在吗"))
    assert ack["code"] == 200
    with tenant_scope(tenant_a):
        assert InboundEvent.objects.count() == 1
