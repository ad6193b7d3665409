"""The stub LLM driven over real HTTP by the official openai SDK (nothing is mocked)."""

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from llmstub import StubLLMServer

QUESTION = [{"role": "user", "content": "How do I get a refund?"}]
WITH_CONTEXT = [
    {"role": "system", "content": "Answer from the context.\n[1] Refunds take 7 days.\n[2] OTA."},
    {"role": "user", "content": "我想申请退款"},
]


@pytest.fixture(scope="module")
def server() -> Iterator[StubLLMServer]:
    with StubLLMServer(tokens=8) as stub:
        yield stub


@pytest.fixture(autouse=True)
def fresh_state(server: StubLLMServer) -> None:
    server.reset()


@pytest.fixture
def client(server: StubLLMServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=5) as sdk:
        yield sdk


def ask(client: OpenAI, messages: list[dict[str, str]] = QUESTION, **kwargs: object) -> str:
    completion = client.chat.completions.create(model="stub", messages=messages, **kwargs)
    return completion.choices[0].message.content or ""


def test_completion_has_deterministic_content_and_usage(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="any-model", messages=QUESTION)

    choice = completion.choices[0]
    assert completion.model == "any-model"
    assert choice.finish_reason == "stop"
    assert choice.message.content == ask(client)
    assert choice.message.content != ask(client, WITH_CONTEXT)
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 8
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.total_tokens == 8 + completion.usage.prompt_tokens


def test_answer_cites_numbered_context_and_quotes_the_question(client: OpenAI) -> None:
    answer = ask(client, WITH_CONTEXT)

    assert "[1]" in answer
    assert "[2]" in answer
    assert "我想申请退款" in answer


def test_max_tokens_truncates_with_finish_reason_length(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="stub", messages=QUESTION, max_tokens=3)

    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3


def test_stream_with_include_usage_ends_with_a_usage_chunk(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="stub",
        messages=QUESTION,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    contents = [c.choices[0].delta.content for c in chunks if c.choices]
    tokens = [text for text in contents if text]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == len(tokens) == 8
    assert "".join(tokens) == ask(client)


def test_async_stream_honours_per_request_headers(server: StubLLMServer) -> None:
    async def run() -> tuple[float, float, list[str]]:
        async with AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as sdk:
            started = time.perf_counter()
            stream = await sdk.chat.completions.create(
                model="stub",
                messages=QUESTION,
                stream=True,
                extra_headers={
                    "X-Stub-Latency-Ms": "150",
                    "X-Stub-Token-Delay-Ms": "20",
                    "X-Stub-Tokens": "5",
                },
            )
            tokens: list[str] = []
            first_token_at = 0.0
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    first_token_at = first_token_at or time.perf_counter() - started
                    tokens.append(chunk.choices[0].delta.content)
            return first_token_at, time.perf_counter() - started, tokens

    first_token_at, total, tokens = asyncio.run(run())

    assert len(tokens) == 5
    assert 0.15 <= first_token_at < 0.6
    assert 0.15 + 4 * 0.02 <= total < 1.0
    assert server.stats()["streamed"] == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("500", openai.InternalServerError),
        ("429", openai.RateLimitError),
        ("hang", openai.APITimeoutError),
        ("timeout_first_token", openai.APITimeoutError),
        ("broken_stream", openai.APIConnectionError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_fault_header_maps_to_sdk_exception(
    client: OpenAI, server: StubLLMServer, fault: str, error: type[Exception], stream: bool
) -> None:
    with pytest.raises(error):
        result = client.with_options(timeout=0.3).chat.completions.create(
            model="stub", messages=QUESTION, stream=stream, extra_headers={"X-Stub-Fault": fault}
        )
        if stream:
            list(result)

    assert server.stats()["faults"] == {fault: 1}


def test_rate_limit_error_carries_retry_after(client: OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client, extra_headers={"X-Stub-Fault": "429"})

    assert caught.value.response.headers["retry-after"] == "1"
    assert caught.value.body == {
        "message": "Rate limit reached (stub)",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }


def test_queued_faults_are_consumed_one_per_request(client: OpenAI, server: StubLLMServer) -> None:
    response = httpx.post(f"{server.url}/_stub/faults", json={"faults": ["500", "429"]})
    assert response.json() == {"queued": ["500", "429"]}

    with pytest.raises(openai.InternalServerError):
        ask(client)
    with pytest.raises(openai.RateLimitError):
        ask(client)
    ask(client)

    stats = server.stats()
    assert stats["requests"] == 3
    assert stats["completed"] == 1
    assert stats["faults"] == {"500": 1, "429": 1}


def test_sdk_retries_are_visible_in_stats(server: StubLLMServer) -> None:
    server.queue_faults("429", "429")

    with OpenAI(base_url=server.base_url, api_key="test", max_retries=2) as sdk:
        ask(sdk)

    assert server.stats()["requests"] == 3
    assert server.stats()["completed"] == 1


def test_unknown_fault_is_a_bad_request(client: OpenAI, server: StubLLMServer) -> None:
    with pytest.raises(openai.BadRequestError, match="unknown fault"):
        ask(client, extra_headers={"X-Stub-Fault": "explode"})

    response = httpx.post(f"{server.url}/_stub/faults", json={"faults": ["explode"]})
    assert response.status_code == 400


def test_api_key_is_checked_when_configured() -> None:
    with StubLLMServer(api_key="sk-right") as stub:
        wrong_key = OpenAI(base_url=stub.base_url, api_key="sk-wrong", max_retries=0)
        with wrong_key as sdk, pytest.raises(openai.AuthenticationError) as caught:
            ask(sdk)
        assert caught.value.code == "invalid_api_key"
        with OpenAI(base_url=stub.base_url, api_key="sk-right", max_retries=0) as sdk:
            assert ask(sdk)
        assert stub.stats()["unauthorized"] == 1
        assert stub.stats()["completed"] == 1


def test_config_endpoint_changes_a_running_server(client: OpenAI, server: StubLLMServer) -> None:
    response = httpx.post(f"{server.url}/_stub/config", json={"tokens": 3, "model": "qwen-stub"})
    assert response.json()["tokens"] == 3

    completion = client.chat.completions.create(model="stub", messages=QUESTION)
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3
    assert [model.id for model in client.models.list()] == ["qwen-stub"]

    rejected = httpx.post(f"{server.url}/_stub/config", json={"tokens": -1, "colour": "red"})
    assert rejected.status_code == 400
    httpx.post(f"{server.url}/_stub/reset")
    assert httpx.get(f"{server.url}/_stub/config").json()["tokens"] == 8


def test_stats_and_recent_requests(client: OpenAI, server: StubLLMServer) -> None:
    ask(client, WITH_CONTEXT, temperature=0.2)

    stats = httpx.get(f"{server.url}/_stub/stats").json()
    assert stats["requests"] == 1
    assert stats["completed"] == 1
    assert stats["completion_tokens"] == 8
    assert stats["in_flight"] == 0
    recent = httpx.get(f"{server.url}/_stub/requests").json()["requests"]
    assert recent[-1]["messages"] == WITH_CONTEXT
    assert recent[-1]["temperature"] == 0.2


def test_connection_is_kept_alive_across_requests(server: StubLLMServer) -> None:
    # The async SDK drains a finished stream, so its connection goes back to the pool
    # (the sync SDK closes it after [DONE]).
    async def run() -> None:
        async with AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as sdk:
            await sdk.chat.completions.create(model="stub", messages=QUESTION)
            stream = await sdk.chat.completions.create(model="stub", messages=QUESTION, stream=True)
            async for _ in stream:
                pass
            await sdk.chat.completions.create(model="stub", messages=QUESTION)

    asyncio.run(run())

    assert server.stats()["connections"] == 1
    assert server.stats()["completed"] == 3


def test_client_closing_a_stream_is_counted(client: OpenAI, server: StubLLMServer) -> None:
    stream = client.chat.completions.create(
        model="stub",
        messages=QUESTION,
        stream=True,
        extra_headers={"X-Stub-Tokens": "100", "X-Stub-Token-Delay-Ms": "10"},
    )
    next(iter(stream))
    stream.close()

    deadline = time.monotonic() + 3
    while server.stats()["disconnected"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.stats()["disconnected"] == 1
    assert server.stats()["in_flight"] == 0


def test_serves_concurrent_streams(server: StubLLMServer) -> None:
    # Each answer waits long before its first token, so all of them are open at once.
    server.configure(tokens=2, latency_ms=2000)

    async def run() -> None:
        async with AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as sdk:

            async def one() -> None:
                stream = await sdk.chat.completions.create(
                    model="stub", messages=QUESTION, stream=True
                )
                async for _ in stream:
                    pass

            await asyncio.gather(*(one() for _ in range(100)))

    asyncio.run(run())

    assert server.stats()["completed"] == 100
    assert server.stats()["max_in_flight"] == 100


def test_healthz_and_unknown_routes(server: StubLLMServer) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/nope").status_code == 404
    assert httpx.get(f"{server.url}/v1/chat/completions").status_code == 405


def test_invalid_body_is_a_bad_request(client: OpenAI, server: StubLLMServer) -> None:
    response = httpx.post(
        f"{server.base_url}/chat/completions",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"

    with pytest.raises(openai.BadRequestError, match="messages"):
        client.chat.completions.create(model="stub", messages=[])


def test_runs_as_a_subprocess() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "llmstub", "--port", "0", "--tokens", "4"],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        with OpenAI(base_url=base_url, api_key="test", max_retries=0) as sdk:
            completion = sdk.chat.completions.create(model="stub", messages=QUESTION)
        assert completion.usage is not None
        assert completion.usage.completion_tokens == 4
    finally:
        process.terminate()
        process.wait(timeout=5)
