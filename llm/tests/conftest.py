"""A local OpenAI-compatible server (llmstub) and an `llm` configuration pointing at it."""

from collections.abc import Iterator

import pytest

from helpdesk.config import ConfigService, get_config
from llmstub import StubLLMServer

API_KEY = "sk-test-0123456789abcdef"
MODEL = "stub-model"
PRICES = {MODEL: {"input": 0.002, "output": 0.006}}


@pytest.fixture(scope="session")
def llm_server() -> Iterator[StubLLMServer]:
    with StubLLMServer(tokens=8) as server:
        yield server


@pytest.fixture
def stub(llm_server: StubLLMServer) -> StubLLMServer:
    llm_server.reset()
    return llm_server


@pytest.fixture
def llm_config(stub: StubLLMServer) -> ConfigService:
    config = get_config()
    config.update(
        {
            "llm.base_url": stub.base_url,
            "llm.api_key": API_KEY,
            "llm.model": MODEL,
            "llm.max_retries": 0,
            "llm.timeout_seconds": 5.0,
            "llm.first_token_timeout_seconds": 5.0,
            "llm.prices": PRICES,
        }
    )
    return config
