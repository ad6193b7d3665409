"""Reads of the knowledge base beyond a single filter."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from helpdesk.tenancy import current_tenant
from knowledge.embedding import embedding_progress
from knowledge.models import EntryVector, KnowledgeEntry, SimilarQuestion
from llm.embeddings import EmbeddingSettings

TOP_USED = 10


def entry_list(
    *,
    category: str = "",
    verified: bool | None = None,
    is_active: bool | None = None,
    source: str = "",
    q: str = "",
) -> QuerySet[KnowledgeEntry]:
    queryset = KnowledgeEntry.objects.select_related("verified_by")
    if category:
        queryset = queryset.filter(category=category)
    if verified is not None:
        queryset = queryset.filter(verified=verified)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if source:
        queryset = queryset.filter(source=source)
    if q:
        queryset = queryset.filter(Q(question__icontains=q) | Q(answer__icontains=q))
    return queryset


def knowledge_stats() -> dict:
    """Counts by category, verified share, most used and never used entries."""
    active = KnowledgeEntry.objects.filter(is_active=True)
    totals = KnowledgeEntry.objects.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(is_active=True)),
        verified=Count("id", filter=Q(is_active=True, verified=True)),
        never_used=Count("id", filter=Q(is_active=True, usage_count=0)),
    )
    by_category = list(
        active.values("category")
        .annotate(count=Count("id"), verified=Count("id", filter=Q(verified=True)))
        .order_by("-count", "category")
    )
    most_used = list(
        active.filter(usage_count__gt=0)
        .order_by("-usage_count", "id")
        .values("id", "question", "usage_count", "last_used_at")[:TOP_USED]
    )
    return {
        "total": totals["total"],
        "active": totals["active"],
        "verified": totals["verified"],
        "verified_share": round(totals["verified"] / totals["active"], 4)
        if totals["active"]
        else 0.0,
        "never_used": totals["never_used"],
        "by_category": by_category,
        "most_used": most_used,
        "embedding": embedding_status(),
    }


def embedding_status() -> dict:
    """How much of the active tenant's text has a vector of the configured model."""
    settings = EmbeddingSettings.load()
    texts = (
        KnowledgeEntry.objects.filter(is_active=True).count()
        + SimilarQuestion.objects.filter(entry__is_active=True).count()
    )
    current = EntryVector.objects.filter(model=settings.signature, entry__is_active=True).count()
    return {
        "configured": settings.configured,
        "model": settings.model if settings.configured else "",
        "texts": texts,
        "embedded": min(current, texts),
        "last_run": embedding_progress(current_tenant().pk),
    }
