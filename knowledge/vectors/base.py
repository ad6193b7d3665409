"""The vector index interface and the storage form every implementation shares."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge.models import EntryVector


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


@dataclass(frozen=True)
class VectorQuery:
    tenant_id: int
    model: str
    dimensions: int
    vector: np.ndarray  # L2-normalised, float32


class VectorIndex(Protocol):
    name: str

    def backfill(self, tenant_id: int) -> int:
        """Index the tenant's stored vectors that the index lacks; returns how many."""
        ...

    def replacing(self, ids: Sequence[int]) -> None:
        """The vectors of these rows are about to be replaced."""
        ...

    def stored(self, rows: Sequence[EntryVector]) -> None:
        """The rows were just written (their `vector` bytes are current)."""
        ...

    def nearest(self, query: VectorQuery, *, limit: int) -> dict[int, float]:
        """Up to `limit` entries of the tenant closest to the query: entry id -> cosine
        similarity of its closest text (question or similar question)."""
        ...

    def similarities(self, query: VectorQuery, entry_ids: Iterable[int]) -> dict[int, float]:
        """The same similarity for the given entries (those without a vector are left out)."""
        ...
