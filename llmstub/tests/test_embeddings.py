"""The stub's /v1/embeddings driven by the official openai SDK over real HTTP."""

from collections.abc import Iterator

import numpy as np
import openai
import pytest
from openai import OpenAI

from llmstub import StubLLMServer


@pytest.fixture(scope="module")
def server() -> Iterator[StubLLMServer]:
    with StubLLMServer(api_key="sk-embed") as stub:
        yield stub


@pytest.fixture
def client(server: StubLLMServer) -> Iterator[OpenAI]:
    with OpenAI(base_url=server.base_url, api_key="sk-embed", max_retries=0, timeout=5) as sdk:
        yield sdk


def test_vectors_are_deterministic_normalised_and_closer_for_shared_words(client):
    texts = ["充电桩无法充电", "充电桩不能充电了", "如何购买车险"]
    first = client.embeddings.create(model="m", input=texts, encoding_format="float")
    again = client.embeddings.create(model="m", input=texts, encoding_format="float")
    vectors = np.array([item.embedding for item in first.data])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert vectors.tolist() == [item.embedding for item in again.data]
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert first.usage.total_tokens > 0


def test_base64_encoding_the_sdk_default_and_dimensions(client):
    plain = client.embeddings.create(model="m", input="OTA 升级", dimensions=64)
    floats = client.embeddings.create(
        model="m", input="OTA 升级", dimensions=64, encoding_format="float"
    )
    assert len(plain.data[0].embedding) == 64
    assert np.allclose(plain.data[0].embedding, floats.data[0].embedding, atol=1e-6)


def test_bad_requests_are_400_and_the_key_is_checked(server, client):
    before = server.stats()["embedding_requests"]
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="m", input=[], encoding_format="float")
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="m", input="x", dimensions=0, encoding_format="float")
    with (
        OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0) as other,
        pytest.raises(openai.AuthenticationError),
    ):
        other.embeddings.create(model="m", input="x")
    # The two bad requests were counted; the unauthorised one was refused before counting.
    assert server.stats()["embedding_requests"] - before == 2
