"""Semantic candidates: the query's embedding (cached in the shared cache) against the
tenant's entry vectors, through the configured vector index.

When the embeddings service fails, the search goes on lexically: the failure is logged,
counted (`llm.embedding_metrics`, kind "search_fallback"), and the service is left alone
for `embeddings.retry_after_seconds` in this process, so a dead service costs one short
timeout rather than one per message.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache

from knowledge import text
from knowledge.tasks import schedule_embedding
from knowledge.vectors import VectorQuery, from_bytes, to_bytes, vector_index
from llm import embedding_metrics
from llm.embeddings import EmbeddingsError, EmbeddingSettings, get_embeddings_client

logger = logging.getLogger(__name__)

QUERY_VECTOR_SECONDS = 24 * 3600
_down_until = 0.0
_lock = threading.Lock()


@dataclass
class SemanticResult:
    available: bool
    similarities: dict[int, float] = field(default_factory=dict)
    query: VectorQuery | None = None


def _vector_key(settings: EmbeddingSettings, query: str) -> str:
    material = f"{settings.signature}\0{settings.query_prefix}\0{query}"
    return "knowledge:query-vector:" + hashlib.sha256(material.encode()).hexdigest()


def query_vector(query: str, settings: EmbeddingSettings) -> np.ndarray | None:
    """The query's embedding, from the shared cache when it was seen before; None when the
    service is down (or was, less than retry_after_seconds ago)."""
    global _down_until
    query = " ".join(text.normalise(query).split())
    key = _vector_key(settings, query)
    cached = cache.get(key)
    if cached is not None:
        return from_bytes(cached)
    if time.monotonic() < _down_until:
        embedding_metrics.count("search_fallback", failed=True)
        return None
    try:
        vector = get_embeddings_client().embed_query(query, settings)
    except EmbeddingsError as exc:
        with _lock:
            _down_until = time.monotonic() + settings.retry_after_seconds
        logger.warning("Semantic search is off for %.0f s: %s", settings.retry_after_seconds, exc)
        embedding_metrics.count("search_fallback", failed=True)
        return None
    cache.set(key, to_bytes(vector), timeout=QUERY_VECTOR_SECONDS)
    return vector


def breaker_open() -> bool:
    """Whether searches are lexical only for now because the service failed."""
    return time.monotonic() < _down_until


def reset_breaker() -> None:
    """Try the embeddings service at the next search (tests, and after reconfiguring)."""
    global _down_until
    with _lock:
        _down_until = 0.0


def semantic_candidates(query: str, *, tenant_id: int, limit: int) -> SemanticResult:
    settings = EmbeddingSettings.load()
    if not settings.configured or not query.strip():
        return SemanticResult(available=False)
    vector = query_vector(query, settings)
    if vector is None:
        return SemanticResult(available=False)
    request = VectorQuery(tenant_id, settings.signature, settings.dimensions, vector)
    nearest = vector_index().nearest(request, limit=limit)
    if not nearest:
        # No vectors of this model yet (new entries, or the model changed): embed them.
        schedule_embedding(tenant_id)
    return SemanticResult(available=True, similarities=nearest, query=request)


def add_similarities(result: SemanticResult, entry_ids: list[int]) -> None:
    """Fill in the similarity of lexical candidates the nearest search did not return."""
    if result.query is None:
        return
    missing = [i for i in entry_ids if i not in result.similarities]
    if missing:
        result.similarities.update(vector_index().similarities(result.query, missing))
