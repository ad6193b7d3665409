"""The LLM client (llm.client) driven over real HTTP against llmstub with the real openai SDK."""

import asyncio
import logging
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from openai import AsyncOpenAI

from helpdesk.config import ConfigError, get_config
from helpdesk.tenancy import TenantScopeError, tenant_scope
from llm import sdk
from llm.calls import Call, LLMResult, StreamDelta
from llm.choices import ErrorType, Outcome
from llm.client import get_llm_client
from llm.errors import (
    LLMBadConfiguration,
    LLMBadResponse,
    LLMError,
    LLMNotConfigured,
    LLMProviderError,
    LLMRateLimited,
    LLMTimeout,
)
from llm.models import LLMCall
from llm.settings import LLMSettings
from llm.tests.conftest import API_KEY, MODEL
from llmstub import StubLLMServer

pytestmark = pytest.mark.django_db

QUESTION = [
    {"role": "system", "content": "只根据知识库回答。\n[1] 退款 7 个工作日到账。"},
    {"role": "user", "content": "我想申请退款"},
]


def expected_cost(prompt_tokens: int, completion_tokens: int) -> Decimal:
    return (
        (Decimal("0.002") * prompt_tokens + Decimal("0.006") * completion_tokens) / 1000
    ).quantize(Decimal("0.000001"))


def stream_sync(**kwargs) -> tuple[list[str], LLMResult]:
    items = list(get_llm_client().stream(QUESTION, purpose="chat", **kwargs))
    deltas = [item.text for item in items if isinstance(item, StreamDelta)]
    assert isinstance(items[-1], LLMResult)
    return deltas, items[-1]


def stream_async(**kwargs) -> tuple[list[str], LLMResult]:
    async def run() -> list:
        return [item async for item in get_llm_client().astream(QUESTION, purpose="chat", **kwargs)]

    items = async_to_sync(run)()
    deltas = [item.text for item in items if isinstance(item, StreamDelta)]
    assert isinstance(items[-1], LLMResult)
    return deltas, items[-1]


def complete_sync(**kwargs) -> LLMResult:
    return get_llm_client().complete(QUESTION, purpose="chat", **kwargs)


def complete_async(**kwargs) -> LLMResult:
    async def run() -> LLMResult:
        return await get_llm_client().acomplete(QUESTION, purpose="chat", **kwargs)

    return async_to_sync(run)()


def call_sync_or_async(mode: str, **kwargs) -> LLMResult:
    match mode:
        case "complete":
            return complete_sync(**kwargs)
        case "acomplete":
            return complete_async(**kwargs)
        case "stream":
            return stream_sync(**kwargs)[1]
        case "astream":
            return stream_async(**kwargs)[1]
    raise AssertionError(mode)


MODES = ["complete", "acomplete", "stream", "astream"]


@pytest.mark.parametrize("mode", ["complete", "acomplete"])
def test_whole_answer_records_usage_and_cost(scope_a, llm_config, stub, mode):
    result = call_sync_or_async(mode)

    assert result.text.startswith("Stub answer")
    assert "[1]" in result.text and "我想申请退款" in result.text
    assert result.model == MODEL
    assert result.completion_tokens == 8
    assert result.prompt_tokens > 0
    assert result.cost == expected_cost(result.prompt_tokens, 8) > 0
    assert result.first_token_ms is None
    row = LLMCall.objects.get()
    assert row.pk == result.call_id
    assert row.tenant_id == scope_a.pk
    assert (row.purpose, row.model, row.outcome, row.error_type) == ("chat", MODEL, "ok", "")
    assert (row.prompt_tokens, row.completion_tokens) == (result.prompt_tokens, 8)
    assert row.cost == result.cost
    assert row.usage_reported and not row.stream and row.attempts == 1
    assert row.latency_ms == result.latency_ms
    sent = stub.requests()[-1]
    assert sent["model"] == MODEL and sent["messages"] == QUESTION
    assert sent["max_tokens"] == 1024 and sent["temperature"] == 0.3


@pytest.mark.parametrize("streamer", [stream_sync, stream_async])
def test_stream_yields_deltas_then_result_with_provider_usage(scope_a, llm_config, stub, streamer):
    deltas, result = streamer()

    assert len(deltas) == 8
    assert "".join(deltas) == result.text == complete_sync().text
    assert result.completion_tokens == 8
    assert result.first_token_ms is not None
    assert result.first_token_ms <= result.latency_ms
    assert stub.requests()[0]["stream_options"] == {"include_usage": True}
    row = LLMCall.objects.get(pk=result.call_id)
    assert row.stream and row.usage_reported and row.outcome == Outcome.OK
    assert row.first_token_ms == result.first_token_ms
    assert row.cost == expected_cost(result.prompt_tokens, 8)


@pytest.mark.parametrize("mode", MODES)
def test_per_call_options_override_the_configuration(scope_a, llm_config, stub, mode):
    result = call_sync_or_async(mode, max_tokens=3, temperature=0.9)

    assert result.completion_tokens == 3
    assert stub.requests()[-1]["max_tokens"] == 3
    assert stub.requests()[-1]["temperature"] == 0.9


def test_unpriced_model_costs_nothing_and_star_prices_the_rest(scope_a, llm_config):
    llm_config.set("llm.prices", {})
    assert complete_sync().cost == Decimal(0)

    llm_config.set("llm.prices", {"*": {"input": 1, "output": 2}})
    result = complete_sync()
    assert result.cost == (Decimal(result.prompt_tokens) + 2 * 8) / 1000


@pytest.mark.parametrize("mode", MODES)
def test_hanging_provider_times_out(scope_a, llm_config, stub, mode):
    stub.queue_faults("hang")

    with pytest.raises(LLMTimeout) as caught:
        call_sync_or_async(mode, timeout=0.3)

    row = LLMCall.objects.get()
    assert caught.value.call_id == row.pk
    assert (row.outcome, row.error_type) == (Outcome.ERROR, ErrorType.TIMEOUT)
    assert (row.prompt_tokens, row.completion_tokens, row.cost) == (0, 0, 0)


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_stream_without_a_first_token_times_out(scope_a, llm_config, stub, mode):
    llm_config.set("llm.first_token_timeout_seconds", 0.3)
    stub.queue_faults("timeout_first_token")

    with pytest.raises(LLMTimeout):
        call_sync_or_async(mode)

    row = LLMCall.objects.get()
    assert row.stream and row.error_type == ErrorType.TIMEOUT and row.first_token_ms is None


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_is_retried_then_succeeds(scope_a, llm_config, stub, mode):
    llm_config.set("llm.max_retries", 2)
    stub.queue_faults("429")

    result = call_sync_or_async(mode)

    assert result.completion_tokens == 8
    assert stub.stats()["requests"] == 2
    row = LLMCall.objects.get()
    assert (row.outcome, row.attempts) == (Outcome.OK, 2)


@pytest.mark.parametrize("mode", ["complete", "astream"])
def test_rate_limit_without_retries_left_is_typed(scope_a, llm_config, stub, mode):
    llm_config.set("llm.max_retries", 1)
    stub.queue_faults("429", "429")

    with pytest.raises(LLMRateLimited) as caught:
        call_sync_or_async(mode)

    assert caught.value.status_code == 429
    assert stub.stats()["requests"] == 2
    row = LLMCall.objects.get()
    assert (row.error_type, row.status_code, row.attempts) == ("rate_limited", 429, 2)


@pytest.mark.parametrize("mode", MODES)
def test_server_error_is_a_provider_error(scope_a, llm_config, stub, mode):
    stub.queue_faults("500")

    with pytest.raises(LLMProviderError) as caught:
        call_sync_or_async(mode)

    assert caught.value.status_code == 500
    row = LLMCall.objects.get()
    assert (row.outcome, row.error_type, row.status_code) == ("error", "provider_error", 500)


def test_unreachable_provider_is_a_provider_error(scope_a, llm_config):
    with StubLLMServer() as gone:
        url = gone.base_url
    llm_config.set("llm.base_url", url)

    with pytest.raises(LLMProviderError):
        complete_sync()

    assert LLMCall.objects.get().error_type == ErrorType.PROVIDER_ERROR


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_broken_stream_records_what_arrived(scope_a, llm_config, stub, mode):
    stub.queue_faults("broken_stream")
    received: list[str] = []

    async def consume_async() -> None:
        async for item in get_llm_client().astream(QUESTION, purpose="chat"):
            received.append(item.text)

    with pytest.raises(LLMBadResponse) as caught:
        if mode == "stream":
            for item in get_llm_client().stream(QUESTION, purpose="chat"):
                received.append(item.text)
        else:
            async_to_sync(consume_async)()

    assert len(received) == 4
    row = LLMCall.objects.get()
    assert caught.value.call_id == row.pk
    assert (row.outcome, row.error_type) == ("error", "bad_response")
    assert not row.usage_reported
    assert row.prompt_tokens > 0 and row.completion_tokens > 0
    assert row.cost > 0
    assert row.first_token_ms is not None


def test_broken_whole_answer_is_a_bad_response(scope_a, llm_config, stub):
    stub.queue_faults("broken_stream")

    with pytest.raises(LLMBadResponse):
        complete_sync()

    assert LLMCall.objects.get().error_type == ErrorType.BAD_RESPONSE


@pytest.mark.parametrize("mode", MODES)
def test_not_configured(scope_a, llm_config, stub, mode):
    llm_config.set("llm.base_url", "")
    client = get_llm_client()

    assert not client.is_configured()
    with pytest.raises(LLMNotConfigured) as caught:
        call_sync_or_async(mode)

    assert isinstance(caught.value, LLMError)
    assert stub.stats()["requests"] == 0
    row = LLMCall.objects.get()
    assert (row.outcome, row.error_type, row.attempts) == ("error", "not_configured", 0)
    assert caught.value.call_id == row.pk


def test_is_configured_with_a_base_url_and_model(llm_config):
    assert get_llm_client().is_configured()
    llm_config.set("llm.model", " ")
    assert not get_llm_client().is_configured()


def test_refused_key_is_a_bad_configuration_and_is_never_logged(scope_a, llm_config, stub, caplog):
    stub.configure(api_key="sk-the-right-one")

    with caplog.at_level(logging.DEBUG), pytest.raises(LLMBadConfiguration) as caught:
        complete_sync()

    assert caught.value.status_code == 401
    assert API_KEY not in str(caught.value)
    assert API_KEY not in caplog.text
    assert "bad_configuration" in caplog.text
    assert LLMCall.objects.get().error_type == ErrorType.BAD_CONFIGURATION


def test_invalid_base_url_is_refused_as_configuration(scope_a, llm_config, stub):
    with pytest.raises(ConfigError, match=r"llm\.base_url"):
        llm_config.set("llm.base_url", "ftp://example.com/v1")

    complete_sync()  # the working URL stays in force
    assert stub.stats()["requests"] == 1


def test_configuration_changes_apply_without_restart(scope_a, llm_config, stub):
    complete_sync()
    connections = stub.stats()["connections"]
    complete_sync()
    assert stub.stats()["connections"] == connections  # the cached client kept its connection

    with StubLLMServer(tokens=2) as other:
        get_config().update({"llm.base_url": other.base_url, "llm.model": "other-model"})
        result = complete_sync()
        assert other.stats()["completed"] == 1
    assert (result.model, result.completion_tokens) == ("other-model", 2)
    assert stub.stats()["completed"] == 2


def test_abandoned_sync_stream_is_recorded_as_cancelled(scope_a, llm_config, stub):
    stream = get_llm_client().stream(QUESTION, purpose="chat")
    assert isinstance(next(stream), StreamDelta)
    stream.close()

    row = LLMCall.objects.get()
    assert (row.outcome, row.error_type) == (Outcome.CANCELLED, "")
    assert not row.usage_reported and row.completion_tokens > 0


def test_abandoned_async_stream_is_recorded_as_cancelled(scope_a, llm_config, stub):
    async def run() -> None:
        stream = get_llm_client().astream(QUESTION, purpose="suggestion")
        assert isinstance(await anext(stream), StreamDelta)
        await stream.aclose()

    async_to_sync(run)()

    row = LLMCall.objects.get()
    assert (row.purpose, row.outcome) == ("suggestion", Outcome.CANCELLED)


def test_calls_are_refused_without_a_tenant_or_with_an_unknown_purpose(llm_config, stub, db):
    with pytest.raises(TenantScopeError):
        complete_sync()
    with pytest.raises(ValueError, match="purpose"):
        get_llm_client().complete(QUESTION, purpose="chitchat")

    assert stub.stats()["requests"] == 0
    assert LLMCall.all_tenants.count() == 0


def test_each_tenant_gets_its_own_rows(tenant_a, tenant_b, llm_config):
    with tenant_scope(tenant_a):
        complete_sync()
        stream_sync()
    with tenant_scope(tenant_b):
        get_config().set("llm.base_url", "")
        with pytest.raises(LLMNotConfigured):
            complete_sync()

    with tenant_scope(tenant_a):
        assert sorted(LLMCall.objects.values_list("outcome", flat=True)) == ["ok", "ok"]
    with tenant_scope(tenant_b):
        assert list(LLMCall.objects.values_list("error_type", flat=True)) == ["not_configured"]


def test_cancelled_streaming_task_is_recorded(scope_a, llm_config, stub):
    stub.configure(token_delay_ms=100)

    async def run() -> None:
        first = asyncio.Event()

        async def consume() -> None:
            async for _item in get_llm_client().astream(QUESTION, purpose="chat"):
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    async_to_sync(run)()

    row = LLMCall.objects.get()
    assert (row.outcome, row.stream) == (Outcome.CANCELLED, True)
    assert row.first_token_ms is not None


def test_retries_stop_at_the_deadline(scope_a, llm_config, stub):
    llm_config.set("llm.max_retries", 5)
    stub.queue_faults("500", "500", "500")

    with pytest.raises(LLMProviderError):
        complete_sync(timeout=0.3)  # the first back-off (about 0.5 s) would pass the deadline

    assert stub.stats()["requests"] == 1
    assert LLMCall.objects.get().attempts == 1


@pytest.mark.parametrize(
    "chunk",
    [
        [],
        {"choices": 3},
        {"choices": [{"index": 0, "delta": "text"}]},
        {"choices": [{"index": 0, "delta": {"content": 7}}]},
    ],
)
def test_a_malformed_stream_chunk_is_a_bad_response(chunk):
    with pytest.raises(LLMBadResponse):
        Call([{"role": "user", "content": "hi"}], "chat", True, None, None, None).take_chunk(chunk)


def test_usage_that_is_not_a_count_is_ignored():
    call = Call([{"role": "user", "content": "hi"}], "chat", True, None, None, None)
    chunk = {"choices": [], "usage": {"prompt_tokens": "many", "completion_tokens": 2}}
    assert call.take_chunk(chunk) == "" and call.usage is None


def test_a_loops_async_clients_are_closed_at_server_shutdown(scope_a, llm_config, stub):
    async def run() -> AsyncOpenAI:
        sdk = get_llm_client()._clients.async_(LLMSettings.load())
        await get_llm_client().acomplete(QUESTION, purpose="chat")
        assert not sdk.is_closed()
        await get_llm_client().aclose()
        return sdk

    assert async_to_sync(run)().is_closed()


def test_a_dropped_async_client_is_closed_once_its_calls_must_be_over(
    scope_a, llm_config, stub, monkeypatch
):
    monkeypatch.setattr(sdk, "CLOSE_STALE_CLIENT_AFTER_SECONDS", 0.05)
    clients = sdk.SDKClients()

    async def run() -> AsyncOpenAI:
        first = clients.async_(LLMSettings.load())
        for number in range(sdk.MAX_CACHED_CLIENTS):
            get_config().set("llm.api_key", f"sk-other-{number}")
            assert clients.async_(LLMSettings.load()) is not first
        assert not first.is_closed()
        await asyncio.sleep(0.3)
        return first

    assert async_to_sync(run)().is_closed()
