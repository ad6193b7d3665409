"""Vector search in the process: the tenant's vectors as one numpy matrix, kept per process.

Serves SQLite and PostgreSQL without pgvector. A tenant's matrix is read once and reused
while the tenant's search generation (`knowledge.search_cache`, moved on by every entry
change and every embedding run) stays the same; one matrix product then scores every
vector (about 10 ms for 100,000 vectors of 384 dimensions).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge.generation import current_generation
from knowledge.models import EntryVector
from knowledge.vectors.base import VectorQuery, from_bytes

MAX_CACHED_TENANTS = 32


@dataclass(frozen=True)
class _Matrix:
    generation: str
    entry_ids: np.ndarray  # one per row
    vectors: np.ndarray  # rows x dimensions
    row_of: dict[int, list[int]]


class InProcessIndex:
    name = "in_process"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matrices: OrderedDict[tuple[int, str, int], _Matrix] = OrderedDict()

    def backfill(self, tenant_id: int) -> int:
        """Nothing to do: the bytes are the index."""
        return 0

    def replacing(self, ids: Sequence[int]) -> None:
        """Nothing to do: the bytes are the index."""

    def stored(self, rows: Sequence[EntryVector]) -> None:
        """Nothing to do: the bytes are the index; the next search sees a new generation."""

    def nearest(self, query: VectorQuery, *, limit: int) -> dict[int, float]:
        matrix = self._matrix(query)
        if not len(matrix.entry_ids):
            return {}
        scores = matrix.vectors @ query.vector
        best: dict[int, float] = {}
        # Several rows may belong to one entry: take rows in order until `limit` entries.
        take = min(len(scores), limit * 4)
        top = np.argpartition(-scores, take - 1)[:take]
        for row in top[np.argsort(-scores[top])]:
            entry_id = int(matrix.entry_ids[row])
            if entry_id not in best:
                best[entry_id] = float(scores[row])
                if len(best) >= limit:
                    break
        return best

    def similarities(self, query: VectorQuery, entry_ids: Iterable[int]) -> dict[int, float]:
        matrix = self._matrix(query)
        found = {}
        for entry_id in entry_ids:
            rows = matrix.row_of.get(entry_id)
            if rows:
                found[entry_id] = float(np.max(matrix.vectors[rows] @ query.vector))
        return found

    def _matrix(self, query: VectorQuery) -> _Matrix:
        key = (query.tenant_id, query.model, query.dimensions)
        generation = current_generation(query.tenant_id)
        with self._lock:
            cached = self._matrices.get(key)
            if cached is not None and cached.generation == generation:
                self._matrices.move_to_end(key)
                return cached
        matrix = _load(query, generation)
        with self._lock:
            self._matrices[key] = matrix
            while len(self._matrices) > MAX_CACHED_TENANTS:
                self._matrices.popitem(last=False)
        return matrix


def _load(query: VectorQuery, generation: str) -> _Matrix:
    rows = EntryVector.objects.filter(
        tenant_id=query.tenant_id,
        model=query.model,
        dimensions=query.dimensions,
        entry__is_active=True,
    ).values_list("entry_id", "vector")
    ids: list[int] = []
    vectors: list[np.ndarray] = []
    for entry_id, data in rows.iterator(chunk_size=2000):
        ids.append(entry_id)
        vectors.append(from_bytes(data))
    row_of: dict[int, list[int]] = {}
    for row, entry_id in enumerate(ids):
        row_of.setdefault(entry_id, []).append(row)
    matrix = np.vstack(vectors) if vectors else np.zeros((0, query.dimensions), dtype=np.float32)
    return _Matrix(generation, np.asarray(ids, dtype=np.int64), matrix, row_of)
