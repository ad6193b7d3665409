"""A tenant's dictionary and synonyms as the segmenter sees them, with a cached version."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count, Max

from knowledge.text import Vocabulary

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
    from knowledge.models import CustomWord, SynonymGroup

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
    from knowledge.models import CustomWord, SynonymGroup

    words = CustomWord.objects.filter(tenant_id=tenant_id).values_list("word", flat=True)
    groups = SynonymGroup.objects.filter(tenant_id=tenant_id).values_list("terms", flat=True)
    return Vocabulary(
        words=tuple(words),
        synonyms=tuple(tuple(str(t) for t in terms) for terms in groups if terms),
    )
