"""Vector search in PostgreSQL with pgvector: an HNSW index per dimension count.

The `embedding vector` column exists only where migration 0002 could create the
extension. Vectors are cast to `vector(<dimensions>)` so that the partial HNSW index of
that dimension count (`knowledge_vector_hnsw_<n>`, created when first needed) serves the
query; the tenant filter runs on the index's candidates with pgvector's iterative scan, so
a small tenant in a large table still gets `limit` results. Vectors of deactivated
entries are deleted by the next embedding run (scheduled by the deactivation); until then
the search drops them when it reads the entries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from django.db import connection, transaction

from knowledge.models import EntryVector
from knowledge.vectors.base import VectorQuery, from_bytes

TABLE = EntryVector._meta.db_table
EF_SEARCH = 100


def _literal(values: Iterable[float]) -> str:
    return "[" + ",".join(f"{v:.7g}" for v in values) + "]"


class PgVectorIndex:
    name = "pgvector"

    def __init__(self) -> None:
        self._indexed_dimensions: set[int] = {384}
        self._lock = threading.Lock()

    def replacing(self, ids: Sequence[int]) -> None:
        """Clear the column first: a row must never hold a vector of another dimension
        count than its `dimensions`, or its partial index could not be computed."""
        if ids:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {TABLE} SET embedding = NULL WHERE id = ANY(%s)", [list(ids)]
                )

    def backfill(self, tenant_id: int) -> int:
        """Fill the column of the tenant's rows that have none (written before the extension
        existed); returns how many."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, vector, dimensions FROM {TABLE} "
                "WHERE tenant_id = %s AND embedding IS NULL",
                [tenant_id],
            )
            rows = [
                EntryVector(id=pk, vector=bytes(data), dimensions=dimensions)
                for pk, data, dimensions in cursor.fetchall()
            ]
        self.stored(rows)
        return len(rows)

    def stored(self, rows: Sequence[EntryVector]) -> None:
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {TABLE} SET embedding = %s::vector WHERE id = %s",
                [(_literal(from_bytes(row.vector)), row.pk) for row in rows],
            )
        for dimensions in {row.dimensions for row in rows}:
            self._ensure_index(dimensions)

    def nearest(self, query: VectorQuery, *, limit: int) -> dict[int, float]:
        n = int(query.dimensions)
        sql = f"""
            SELECT entry_id, 1 - (embedding::vector({n}) <=> %s::vector({n})) AS similarity
            FROM {TABLE}
            WHERE tenant_id = %s AND model = %s AND dimensions = {n} AND embedding IS NOT NULL
            ORDER BY embedding::vector({n}) <=> %s::vector({n})
            LIMIT %s
        """
        vector = _literal(query.vector)
        best: dict[int, float] = {}
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), "
                "set_config('hnsw.ef_search', %s, true)",
                [str(max(EF_SEARCH, limit * 4))],
            )
            cursor.execute(sql, [vector, query.tenant_id, query.model, vector, limit * 4])
            for entry_id, similarity in cursor.fetchall():
                if entry_id not in best:
                    best[entry_id] = float(similarity)
        return dict(sorted(best.items(), key=lambda item: -item[1])[:limit])

    def similarities(self, query: VectorQuery, entry_ids: Iterable[int]) -> dict[int, float]:
        ids = list(entry_ids)
        if not ids:
            return {}
        n = int(query.dimensions)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT entry_id, max(1 - (embedding::vector({n}) <=> %s::vector({n})))
                    FROM {TABLE}
                    WHERE tenant_id = %s AND model = %s AND dimensions = {n}
                      AND embedding IS NOT NULL AND entry_id = ANY(%s)
                    GROUP BY entry_id""",
                [_literal(query.vector), query.tenant_id, query.model, ids],
            )
            return {entry_id: float(similarity) for entry_id, similarity in cursor.fetchall()}

    def _ensure_index(self, dimensions: int) -> None:
        with self._lock:
            if dimensions in self._indexed_dimensions:
                return
        n = int(dimensions)
        with connection.cursor() as cursor:
            # CREATE INDEX refuses to run while deferred foreign-key checks of this
            # transaction's inserts are pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS knowledge_vector_hnsw_{n} ON {TABLE} "
                f"USING hnsw ((embedding::vector({n})) vector_cosine_ops) WHERE dimensions = {n}"
            )
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        with self._lock:
            self._indexed_dimensions.add(n)


def has_pgvector_column() -> bool:
    """Whether this PostgreSQL database has the `embedding` column (migration 0002)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s "
            "AND column_name = 'embedding'",
            [TABLE],
        )
        return cursor.fetchone() is not None
