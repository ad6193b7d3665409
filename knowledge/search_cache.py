"""Knowledge search results kept in the shared cache, for questions asked again.

Customers ask the same questions over and over, and a search costs milliseconds of
Python and PostgreSQL time on every message. A cached result holds only entry ids,
scores and snippets; the entries themselves are read again (one query by primary key),
so an answer never quotes stale text.

Every change to a tenant's entries moves the tenant's generation forward (model
signals, and `knowledge_changed()` in the services that write in bulk) once its
transaction commits. A result is stored with the generation and vocabulary version it
was computed under, and used only while both are current, so a change is visible to
the very next search. One round trip reads the generation, the vocabulary version and
the result (`lookup_keys`, `result_from`); the chat stream's fast path reads them
together with its other Redis work. `knowledge.search_cache_seconds` bounds how long a
result lives anyway; 0 turns the cache off.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save

from helpdesk.config import get_config
from helpdesk.tenancy import current_tenant
from knowledge.generation import generation_key, knowledge_changed, new_generation
from knowledge.models import KnowledgeEntry
from knowledge.search import SearchHit, search
from knowledge.vocabulary import vocabulary_version, vocabulary_version_key


def _result_key(tenant_id: int, query: str, limit: int) -> str:
    normalised = " ".join(query.split())
    digest = hashlib.sha256(f"{limit}\n{normalised}".encode()).hexdigest()
    return f"knowledge:search:{tenant_id}:{digest}"


def lookup_keys(tenant_id: int, query: str, *, limit: int) -> list[str] | None:
    """The cache keys of a search's cached result, to read in one round trip and pass
    to `result_from`: the tenant's generation, its vocabulary version and the result.
    None when the cache is off."""
    if get_config().get("knowledge.search_cache_seconds") <= 0 or not isinstance(query, str):
        return None
    return [
        generation_key(tenant_id),
        vocabulary_version_key(tenant_id),
        _result_key(tenant_id, query, limit),
    ]


def result_from(values: list[Any]) -> list[tuple[int, float, str]] | None:
    """The cached [(entry id, score, snippet)] from the values of `lookup_keys`; None
    unless it was stored under the current generation and vocabulary version."""
    generation, vocabulary, stored = values
    if generation is None or vocabulary is None or stored is None:
        return None
    stored_generation, stored_vocabulary, result = stored
    if (stored_generation, stored_vocabulary) != (generation, vocabulary):
        return None
    return result


def cached_search(query: str, *, limit: int) -> list[SearchHit]:
    """`knowledge.search.search(query, limit=limit)`, served from the cache when it can be."""
    tenant_id = current_tenant().pk
    keys = lookup_keys(tenant_id, query, limit=limit)
    if keys is None:
        return search(query, limit=limit)
    found = cache.get_many(keys)
    generation, vocabulary, _stored = values = [found.get(key) for key in keys]
    cached = result_from(values)
    if cached is not None:
        hits = _hits(cached)
        if hits is not None:
            return hits
    generation = generation or new_generation(tenant_id)
    vocabulary = vocabulary or vocabulary_version(tenant_id)
    hits = search(query, limit=limit)
    result = [(hit.entry.pk, hit.score, hit.snippet) for hit in hits]
    seconds = get_config().get("knowledge.search_cache_seconds")
    cache.set(keys[2], (generation, vocabulary, result), timeout=seconds)
    return hits


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
