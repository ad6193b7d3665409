"""Where entry vectors are searched: one interface (`VectorIndex`), two implementations.

`knowledge.vector_backend` chooses: "pgvector" (PostgreSQL with the extension, HNSW),
"in_process" (the tenant's vectors as a numpy matrix: SQLite, or PostgreSQL without the
extension) or "auto", which takes pgvector where migration 0002 could add its column.
This is the one place that decides.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection

from helpdesk.config import get_config
from knowledge.vectors.base import VectorIndex, VectorQuery, from_bytes, to_bytes
from knowledge.vectors.inprocess import InProcessIndex
from knowledge.vectors.pgvector import PgVectorIndex, has_pgvector_column

__all__ = ["VectorIndex", "VectorQuery", "from_bytes", "to_bytes", "vector_index"]

logger = logging.getLogger(__name__)

_IN_PROCESS = InProcessIndex()
_PGVECTOR = PgVectorIndex()
_detected: dict[str, bool] = {}
_lock = threading.Lock()


def _pgvector_available() -> bool:
    alias = connection.alias
    with _lock:
        if alias in _detected:
            return _detected[alias]
    found = connection.vendor == "postgresql" and has_pgvector_column()
    with _lock:
        _detected[alias] = found
    return found


def vector_index() -> VectorIndex:
    choice = get_config().get("knowledge.vector_backend")
    if choice == "in_process":
        return _IN_PROCESS
    available = _pgvector_available()
    if choice == "pgvector" and not available:
        logger.error("knowledge.vector_backend is pgvector, but the database has no pgvector")
    return _PGVECTOR if available else _IN_PROCESS
