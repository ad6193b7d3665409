"""Knowledge search results kept in the shared cache, for questions asked again.

Customers ask the same questions over and over, and a search costs milliseconds of
Python and PostgreSQL time on every message. A cached result holds only entry ids,
scores and snippets; the entries themselves are read again (one query by primary key),
so an answer never quotes stale text.

Every change to a tenant's entries moves the tenant's generation forward (model
signals, and `knowledge_changed()` in the services that write in bulk) once its
transaction commits; results are keyed by generation and vocabulary version, so a
change is visible to the very next search. `knowledge.search_cache_seconds` bounds
how long a result lives anyway; 0 turns the cache off.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from helpdesk.config import get_config
from helpdesk.tenancy import current_tenant
from knowledge.models import KnowledgeEntry
from knowledge.search import SearchHit, search
from knowledge.vocabulary import vocabulary_version, vocabulary_version_key

_GENERATION_KEY = "knowledge:search-generation:{tenant_id}"


def knowledge_changed(tenant_id: int) -> None:
    """Forget the tenant's cached results when the current transaction commits."""
    transaction.on_commit(lambda: _new_generation(tenant_id))


def _new_generation(tenant_id: int) -> str:
    generation = uuid.uuid4().hex
    cache.set(_GENERATION_KEY.format(tenant_id=tenant_id), generation, timeout=None)
    return generation


def _generation(tenant_id: int) -> str:
    generation = cache.get(_GENERATION_KEY.format(tenant_id=tenant_id))
    return generation if generation is not None else _new_generation(tenant_id)


def _result_key(tenant_id: int, generation: str, vocabulary: str, query: str, limit: int) -> str:
    normalised = " ".join(query.split())
    digest = hashlib.sha256(f"{limit}\n{normalised}".encode()).hexdigest()
    return f"knowledge:search:{tenant_id}:{generation}:{vocabulary}:{digest}"


def cached_search(query: str, *, limit: int) -> list[SearchHit]:
    """`knowledge.search.search(query, limit=limit)`, served from the cache when it can be."""
    seconds = get_config().get("knowledge.search_cache_seconds")
    if seconds <= 0 or not isinstance(query, str):
        return search(query, limit=limit)
    tenant_id = current_tenant().pk
    key = _result_key(
        tenant_id, _generation(tenant_id), vocabulary_version(tenant_id), query, limit
    )
    cached = cache.get(key)
    if cached is not None:
        hits = _hits(cached)
        if hits is not None:
            return hits
    hits = search(query, limit=limit)
    cache.set(key, [(hit.entry.pk, hit.score, hit.snippet) for hit in hits], timeout=seconds)
    return hits


async def acached_result(tenant_id: int, query: str, *, limit: int) -> list | None:
    """The cached [(entry id, score, snippet)] of a search, read natively async from the
    shared Redis cache (two round trips); None when it is not cached, so the caller
    searches with `cached_search`, which also fills the cache."""
    if get_config().get("knowledge.search_cache_seconds") <= 0:
        return None
    client = cache.async_client()
    generation, vocabulary = map(
        cache.decode,
        await client.mget(
            cache.make_and_validate_key(_GENERATION_KEY.format(tenant_id=tenant_id)),
            cache.make_and_validate_key(vocabulary_version_key(tenant_id)),
        ),
    )
    if generation is None or vocabulary is None:
        return None
    key = _result_key(tenant_id, generation, vocabulary, query, limit)
    return cache.decode(await client.get(cache.make_and_validate_key(key)))


def _hits(cached: list[tuple[int, float, str]]) -> list[SearchHit] | None:
    """The cached hits with their entries read again; None if one is gone."""
    entries = KnowledgeEntry.objects.filter(is_active=True).in_bulk([i for i, _s, _n in cached])
    return hits_from(cached, entries)


def hits_from(
    cached: list[tuple[int, float, str]], entries: dict[int, KnowledgeEntry]
) -> list[SearchHit] | None:
    """SearchHits of a cached result and its entries read again; None if one is gone."""
    if len(entries) != len(cached):
        return None
    return [SearchHit(entry=entries[i], score=score, snippet=snip) for i, score, snip in cached]


def _entry_changed(sender: Any, instance: KnowledgeEntry, **kwargs: Any) -> None:
    knowledge_changed(instance.tenant_id)


def connect_signals() -> None:
    post_save.connect(_entry_changed, sender=KnowledgeEntry, dispatch_uid="knowledge-search-cache")
    post_delete.connect(
        _entry_changed, sender=KnowledgeEntry, dispatch_uid="knowledge-search-cache-delete"
    )
