"""Feishu fixtures: the local open platform (feishustub) and one app per tenant."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from feishu.models import FeishuApp
from feishu.selectors import forget_callback_apps
from feishustub import FeishuStub
from feishustub.protocol import signed_request
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from llmstub import StubLLMServer

ENCRYPT_KEY = "encrypt-key-a"
TOKEN = "verification-token-a"


@pytest.fixture(scope="session")
def stub_server() -> Iterator[FeishuStub]:
    with FeishuStub() as stub:
        yield stub


@pytest.fixture(autouse=True)
def _fresh_app_lookup() -> Iterator[None]:
    """Apps are looked up once per few seconds per process; tests reuse app ids."""
    forget_callback_apps()
    yield
    forget_callback_apps()


@pytest.fixture
def stub(stub_server: FeishuStub) -> FeishuStub:
    stub_server.state.reset()
    stub_server.acks.clear()
    stub_server.state.add_app("cli_a", "secret-a", bot_open_id="ou_bot_a")
    stub_server.state.add_app("cli_b", "secret-b", bot_open_id="ou_bot_b")
    return stub_server


def make_app(tenant, stub: FeishuStub, app_id: str, **fields) -> FeishuApp:
    with tenant_scope(tenant):
        return FeishuApp.objects.create(
            name=f"Bot {app_id}",
            app_id=app_id,
            app_secret=fields.pop("app_secret", f"secret-{app_id[-1]}"),
            domain=stub.url,
            **fields,
        )


@pytest.fixture
def app_a(tenant_a, stub) -> FeishuApp:
    return make_app(
        tenant_a,
        stub,
        "cli_a",
        encrypt_key=ENCRYPT_KEY,
        verification_token=TOKEN,
        bot_open_id="ou_bot_a",
    )


@pytest.fixture
def app_b(tenant_b, stub) -> FeishuApp:
    return make_app(
        tenant_b, stub, "cli_b", verification_token="verification-token-b", bot_open_id="ou_bot_b"
    )


def post_callback(
    path: str, payload: dict, *, encrypt_key: str = ENCRYPT_KEY, timestamp: int | None = None
):
    """POST `payload` to one of our callback URLs as Feishu would."""
    body, headers = signed_request(payload, encrypt_key=encrypt_key, timestamp=timestamp)
    extra = {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"
    }
    return Client().post(path, data=body, content_type="application/json", **extra)


@pytest.fixture(scope="session")
def _llm_server() -> Iterator[StubLLMServer]:
    with StubLLMServer(tokens=20) as server:
        yield server


@pytest.fixture
def llm(_llm_server: StubLLMServer) -> StubLLMServer:
    """The stub LLM as the provider, streaming slowly enough to update a card on the way."""
    _llm_server.reset()
    _llm_server.configure(token_delay_ms=40)
    get_config().update(
        {
            "llm.base_url": _llm_server.base_url,
            "llm.model": "stub-llm",
            "llm.timeout_seconds": 5.0,
            "llm.max_retries": 0,
            "feishu.card_update_interval_ms": 200,
        }
    )
    return _llm_server
