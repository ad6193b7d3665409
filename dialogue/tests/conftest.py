"""Dialogue fixtures: the local LLM server, knowledge entries, visitors."""

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from rest_framework.test import APIClient

from dialogue.authentication import issue_visitor_token
from dialogue.live.desk import DeskConsumer
from dialogue.live.replies import NativeReplies, OrmReplies
from dialogue.pipeline import NativeTurnStore, OrmTurnStore, native_store
from dialogue.pipeline.admission import seconds_to_next_window
from dialogue.pipeline.store import TurnStore
from helpdesk import async_db
from helpdesk.cache import SharedClientRedisCache
from helpdesk.config import get_config
from helpdesk.db import releasing_connections
from llm.client import get_llm_client
from llmstub import StubLLMServer


@pytest.fixture(scope="session")
def _llm_server() -> Iterator[StubLLMServer]:
    with StubLLMServer(tokens=12) as server:
        yield server


@pytest.fixture
def llm(_llm_server: StubLLMServer) -> StubLLMServer:
    """The stub LLM, configured as the tenant's provider, reset for each test."""
    _llm_server.reset()
    config = get_config()
    config.update(
        {
            "llm.base_url": _llm_server.base_url,
            "llm.model": "stub-llm",
            "llm.timeout_seconds": 2.0,
            "llm.first_token_timeout_seconds": 1.0,
            "llm.max_retries": 0,
        }
    )
    return _llm_server


@pytest.fixture
def make_entry():
    """Create a knowledge entry in the active scope."""
    from knowledge.services import entry_create

    def make(question: str, answer: str, *, verified: bool = True, category: str = ""):
        return entry_create(question=question, answer=answer, verified=verified, category=category)

    return make


@pytest.fixture
def refund_entries(scope_a, make_entry):
    return [
        make_entry(
            "如何申请退款？", "在订单详情页点击“申请退款”，审核通过后 3 个工作日内原路退回。"
        ),
        make_entry("退款多久到账？", "退款审核通过后 1-3 个工作日到账，信用卡可能需要 7 天。"),
    ]


def visitor_client(tenant, visitor_id: str = "visitor-1") -> APIClient:
    client = APIClient()
    token = issue_visitor_token(tenant=tenant, visitor_id=visitor_id)
    client.credentials(HTTP_AUTHORIZATION=f"Visitor {token}")
    return client


@pytest.fixture
def visitor_a(tenant_a) -> APIClient:
    return visitor_client(tenant_a)


@pytest.fixture
async def loop_pools() -> AsyncIterator[None]:
    """Closes what the test's event loop opened: database, cache, channel layer and LLM
    connections."""
    yield
    await async_db.close_pool()
    await SharedClientRedisCache.aclose_async_clients()
    await get_llm_client().aclose()
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


@pytest.fixture
def whole_minute() -> None:
    """Visitors' requests are counted per fixed minute: a test of the limit starts at
    least 10 s before a minute ends, so that all its requests fall in one window."""
    left = seconds_to_next_window()
    if left < 10:
        time.sleep(left + 0.05)


@pytest.fixture(params=["orm", "native"])
async def store(request, transactional_db, loop_pools) -> AsyncIterator[TurnStore]:
    """Each turn store in turn (the native one where PostgreSQL and Redis run)."""
    if request.param == "native" and not native_store.available():
        pytest.skip("The native turn store needs PostgreSQL and the shared Redis cache.")
    yield OrmTurnStore() if request.param == "orm" else NativeTurnStore()


def in_thread[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """`func` for async tests: in a worker thread, which gives its database connection
    back afterwards."""
    return sync_to_async(releasing_connections(func))


@pytest.fixture(params=["orm", "native"])
def desk_replies(request, monkeypatch) -> str:
    """The desk saving replies with each implementation in turn (the native one where
    PostgreSQL runs)."""
    if request.param == "native" and not async_db.available():
        pytest.skip("The native replies need PostgreSQL.")
    chosen = NativeReplies() if request.param == "native" else OrmReplies()
    monkeypatch.setattr(DeskConsumer, "replies", chosen)
    return request.param
