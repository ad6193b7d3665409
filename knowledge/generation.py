"""A tenant's search generation: a token in the shared cache that moves on with every
change to the tenant's entries or vectors, once the change commits.

Cached search results (`knowledge.search_cache`) and in-process vector matrices
(`knowledge.vectors.inprocess`) are valid only while the generation they were built
under is current, so a change is visible to the very next search.
"""

from __future__ import annotations

import uuid

from django.core.cache import cache
from django.db import transaction

_GENERATION_KEY = "knowledge:search-generation:{tenant_id}"


def generation_key(tenant_id: int) -> str:
    return _GENERATION_KEY.format(tenant_id=tenant_id)


def knowledge_changed(tenant_id: int) -> None:
    """Move the tenant's generation on when the current transaction commits."""
    transaction.on_commit(lambda: new_generation(tenant_id))


def new_generation(tenant_id: int) -> str:
    generation = uuid.uuid4().hex
    cache.set(generation_key(tenant_id), generation, timeout=None)
    return generation


def current_generation(tenant_id: int) -> str:
    """The tenant's generation, started if there is none yet."""
    return cache.get(generation_key(tenant_id)) or new_generation(tenant_id)
