"""The embeddings client: any OpenAI-compatible /v1/embeddings endpoint, on the official SDK.

    client = get_embeddings_client()
    if client.is_configured():
        vectors = client.embed_passages(["如何预约保养？", ...])   # background work
        vector = client.embed_query("多久保养一次")                  # search, short deadline

Configuration is the ConfigService `embeddings` section, read per call. Queries and
passages differ by an input-type field and/or a text prefix, as the model wants them
(e5: "query: " / "passage: "). Vectors come back L2-normalised as float32 numpy arrays of
`embeddings.dimensions`; a wrong length is an error, never a silently mixed index.

Queries get `embeddings.query_timeout_seconds` and no retry (the search falls back to
lexical at once); passages get `embeddings.timeout_seconds` and `embeddings.max_retries`.
Every call is counted in the shared cache (`llm.embedding_metrics`); keys never appear in
messages or logs.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import openai
from openai import OpenAI

from helpdesk.config import get_config
from llm import embedding_metrics

NO_API_KEY = "EMPTY"
MAX_INPUT_CHARS = 2000


class EmbeddingsError(Exception):
    """The embeddings service failed or is not configured; the message is safe to log."""


@dataclass(frozen=True)
class EmbeddingSettings:
    base_url: str
    api_key: str = field(repr=False)
    model: str
    dimensions: int
    send_dimensions: bool
    input_type_field: str
    query_input_type: str
    passage_input_type: str
    query_prefix: str
    passage_prefix: str
    batch_size: int
    timeout_seconds: float
    query_timeout_seconds: float
    max_retries: int
    retry_after_seconds: float

    @classmethod
    def load(cls) -> EmbeddingSettings:
        return cls(**get_config().get_section("embeddings"))

    @property
    def configured(self) -> bool:
        return bool(self.base_url.strip() and self.model.strip())

    @property
    def signature(self) -> str:
        """What makes vectors comparable: a change means every entry is embedded again."""
        return (
            f"{self.model.strip()}:{self.dimensions}:{self.passage_input_type}:"
            f"{self.passage_prefix}"
        )[:120]

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.base_url}\0{self.api_key}".encode()).hexdigest()

    def check(self) -> None:
        if not self.configured:
            raise EmbeddingsError("No embeddings service is configured (embeddings.base_url).")
        parts = urlsplit(self.base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise EmbeddingsError("embeddings.base_url must be an http(s) URL.")


class EmbeddingsClient:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, float, int], OpenAI] = {}

    def is_configured(self) -> bool:
        return EmbeddingSettings.load().configured

    def embed_query(self, text: str, settings: EmbeddingSettings | None = None) -> np.ndarray:
        settings = settings or EmbeddingSettings.load()
        return self._embed(
            [settings.query_prefix + text],
            settings,
            input_type=settings.query_input_type,
            timeout=settings.query_timeout_seconds,
            retries=0,
            kind="query",
        )[0]

    def embed_passages(
        self, texts: Sequence[str], settings: EmbeddingSettings | None = None
    ) -> np.ndarray:
        """One row per text, in order, sent in batches of `embeddings.batch_size`."""
        settings = settings or EmbeddingSettings.load()
        rows = []
        for start in range(0, len(texts), settings.batch_size):
            batch = [
                settings.passage_prefix + t for t in texts[start : start + settings.batch_size]
            ]
            rows.append(
                self._embed(
                    batch,
                    settings,
                    input_type=settings.passage_input_type,
                    timeout=settings.timeout_seconds,
                    retries=settings.max_retries,
                    kind="passage",
                )
            )
        if not rows:
            return np.zeros((0, settings.dimensions), dtype=np.float32)
        return np.vstack(rows)

    def _embed(
        self,
        texts: list[str],
        settings: EmbeddingSettings,
        *,
        input_type: str,
        timeout: float,
        retries: int,
        kind: str,
    ) -> np.ndarray:
        settings.check()
        options: dict[str, Any] = {"encoding_format": "float"}
        if settings.send_dimensions:
            options["dimensions"] = settings.dimensions
        if settings.input_type_field and input_type:
            options["extra_body"] = {settings.input_type_field: input_type}
        started = time.perf_counter()
        try:
            response = self._client(settings, timeout, retries).embeddings.create(
                model=settings.model,
                input=[(t or " ")[:MAX_INPUT_CHARS] for t in texts],
                **options,
            )
            vectors = _vectors(response, len(texts), settings.dimensions)
        except (openai.OpenAIError, EmbeddingsError) as exc:
            embedding_metrics.count(kind, failed=True)
            raise EmbeddingsError(_describe(exc)) from exc
        embedding_metrics.count(
            kind,
            texts=len(texts),
            tokens=getattr(response.usage, "total_tokens", 0) or 0,
            milliseconds=(time.perf_counter() - started) * 1000,
        )
        return vectors

    def _client(self, settings: EmbeddingSettings, timeout: float, retries: int) -> OpenAI:
        key = (settings.fingerprint, timeout, retries)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                if len(self._clients) > 8:
                    self._clients.clear()
                client = self._clients[key] = OpenAI(
                    base_url=settings.base_url.strip(),
                    api_key=settings.api_key or NO_API_KEY,
                    timeout=timeout,
                    max_retries=retries,
                )
            return client


def _vectors(response: Any, count: int, dimensions: int) -> np.ndarray:
    data = sorted(response.data, key=lambda item: item.index)
    if len(data) != count:
        raise EmbeddingsError(f"The embeddings service returned {len(data)} vectors for {count}.")
    matrix = np.asarray([item.embedding for item in data], dtype=np.float32)
    if matrix.ndim != 2 or matrix.shape[1] != dimensions:
        raise EmbeddingsError(
            f"The embeddings service returned vectors of length {matrix.shape[-1]}, "
            f"not embeddings.dimensions={dimensions}."
        )
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def _describe(exc: BaseException) -> str:
    match exc:
        case EmbeddingsError():
            return str(exc)
        case openai.APITimeoutError():
            return "The embeddings service did not answer in time."
        case openai.APIStatusError():
            return f"The embeddings service returned HTTP {exc.status_code}."
        case openai.APIConnectionError():
            return "The embeddings service cannot be reached."
    return f"The embeddings call failed: {type(exc).__name__}."


_client: EmbeddingsClient | None = None
_client_lock = threading.Lock()


def get_embeddings_client() -> EmbeddingsClient:
    global _client
    with _client_lock:
        if _client is None:
            _client = EmbeddingsClient()
        return _client
