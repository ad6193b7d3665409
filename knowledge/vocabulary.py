"""A tenant's dictionary and synonyms as the segmenter sees them, with a cached version.

A tenant without any uses the shared default segmenter; one with a vocabulary gets
its own segmenter, built once per process and rebuilt when the vocabulary version in
the cache changes.
"""

from __future__ import annotations

import threading

from django.core.cache import cache
from django.db.models import Count, Max

from helpdesk.tenancy import current_tenant_or_none
from knowledge.models import CustomWord, SynonymGroup
from knowledge.text import Segmenter, Vocabulary, default_segmenter, weighted_cosine

_VERSION_KEY = "knowledge:vocabulary-version:{tenant_id}"


def vocabulary_version_key(tenant_id: int) -> str:
    """The cache key of `vocabulary_version(tenant_id)`."""
    return _VERSION_KEY.format(tenant_id=tenant_id)


def vocabulary_version(tenant_id: int) -> str:
    """A string that changes whenever the tenant's vocabulary does ("empty" when none)."""
    key = vocabulary_version_key(tenant_id)
    version = cache.get(key)
    if version is None:
        version = _compute_version(tenant_id)
        cache.set(key, version, timeout=None)
    return version


def forget_vocabulary_version(tenant_id: int) -> None:
    cache.delete(vocabulary_version_key(tenant_id))


def _compute_version(tenant_id: int) -> str:
    parts = []
    for model in (CustomWord, SynonymGroup):
        stats = model.objects.filter(tenant_id=tenant_id).aggregate(
            n=Count("id"), latest=Max("updated_at")
        )
        parts.append(f"{stats['n']}@{stats['latest'].isoformat() if stats['latest'] else '-'}")
    if parts == ["0@-", "0@-"]:
        return "empty"
    return "|".join(parts)


def load_vocabulary(tenant_id: int) -> Vocabulary:
    words = CustomWord.objects.filter(tenant_id=tenant_id).values_list("word", flat=True)
    groups = SynonymGroup.objects.filter(tenant_id=tenant_id).values_list("terms", flat=True)
    return Vocabulary(
        words=tuple(words),
        synonyms=tuple(tuple(str(t) for t in terms) for terms in groups if terms),
    )


_tenant_segmenters: dict[int, tuple[str, Segmenter]] = {}
_lock = threading.Lock()


def segmenter_for(tenant_id: int | None) -> Segmenter:
    """The segmenter of a tenant, rebuilt when its vocabulary version changes."""
    if tenant_id is None:
        return default_segmenter()
    version = vocabulary_version(tenant_id)
    if version == "empty":
        return default_segmenter()
    cached = _tenant_segmenters.get(tenant_id)
    if cached is not None and cached[0] == version:
        return cached[1]
    segmenter = Segmenter(load_vocabulary(tenant_id))
    with _lock:
        _tenant_segmenters[tenant_id] = (version, segmenter)
    return segmenter


def segment(text: str) -> list[str]:
    """Index tokens of `text` with the active tenant's dictionary and synonyms."""
    tenant = current_tenant_or_none()
    return segmenter_for(tenant.pk if tenant is not None else None).segment(text)


def similarity(a: str, b: str) -> float:
    """Similarity 0..1 of two texts on their segmented tokens (weighted cosine)."""
    return weighted_cosine(segment(a), segment(b))
