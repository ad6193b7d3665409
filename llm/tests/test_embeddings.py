"""The embeddings client against the llmstub over real HTTP (the SDK is not mocked)."""

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_scope
from helpdesk.testing import free_port
from llm import embedding_metrics
from llm.embeddings import EmbeddingsError, EmbeddingSettings, get_embeddings_client


@pytest.fixture
def embeddings_config(stub, monkeypatch):
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", stub.base_url)
    monkeypatch.setenv("EMBEDDINGS_BATCH_SIZE", "2")
    yield


def test_passages_are_batched_in_order_and_normalised(embeddings_config, stub, tenant_a):
    before = stub.stats()["embedding_requests"]
    texts = ["充电桩", "保养", "车险", "积分", "发票"]
    vectors = get_embeddings_client().embed_passages(texts)
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert stub.stats()["embedding_requests"] - before == 3  # batches of 2
    single = get_embeddings_client().embed_passages(["车险"])
    assert np.allclose(single[0], vectors[2])


def test_query_and_passage_prefixes_are_applied(embeddings_config, monkeypatch):
    same = get_embeddings_client().embed_query("多久保养一次")
    assert np.allclose(same, get_embeddings_client().embed_passages(["多久保养一次"])[0])
    monkeypatch.setenv("EMBEDDINGS_QUERY_PREFIX", "query: ")
    query = get_embeddings_client().embed_query("多久保养一次")
    assert not np.allclose(query, same)
    assert np.allclose(query, get_embeddings_client().embed_passages(["query: 多久保养一次"])[0])


def test_wrong_dimensions_and_unreachable_service_are_errors(stub, monkeypatch, tenant_a):
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", stub.base_url)
    monkeypatch.setenv("EMBEDDINGS_DIMENSIONS", "128")
    with pytest.raises(EmbeddingsError, match="length 384"):
        get_embeddings_client().embed_query("x")
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("EMBEDDINGS_API_KEY", "sk-secret-embedding-key")
    with pytest.raises(EmbeddingsError) as raised:
        get_embeddings_client().embed_query("x")
    assert "sk-secret" not in str(raised.value)


def test_calls_are_counted(embeddings_config, tenant_a):
    with tenant_scope(tenant_a):
        get_embeddings_client().embed_passages(["a", "b", "c"])
    now = timezone.now()
    totals = embedding_metrics.totals(tenant_a.pk, "passage", now - timedelta(hours=1), now)
    assert totals["calls"] == 2 and totals["texts"] == 3 and totals["tokens"] > 0


def test_not_configured(monkeypatch):
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", "")
    assert not EmbeddingSettings.load().configured
    with pytest.raises(EmbeddingsError, match="No embeddings service"):
        get_embeddings_client().embed_query("x")
