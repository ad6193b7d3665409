"""Writes of similar questions (相似问法): each one re-indexes its entry (the lexical index
holds it with the question) and schedules the entry's embedding."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.tenancy import current_tenant
from knowledge import text
from knowledge.entries import index_fields
from knowledge.generation import knowledge_changed
from knowledge.models import SIMILAR_MAX, KnowledgeEntry, SimilarQuestion
from knowledge.tasks import schedule_embedding

MAX_PER_ENTRY = 50


def clean_similar_text(value: str) -> str:
    cleaned = " ".join(str(value or "").split())
    if not cleaned:
        raise ValidationError({"text": _("The similar question may not be blank.")})
    if len(cleaned) > SIMILAR_MAX:
        raise ValidationError(
            {"text": _("A similar question has at most %(n)d characters.") % {"n": SIMILAR_MAX}}
        )
    return cleaned


def _reindex(entry: KnowledgeEntry) -> None:
    entry = KnowledgeEntry.objects.select_for_update().get(pk=entry.pk)
    index_fields(entry)
    entry.save(update_fields=["question_tokens", "answer_tokens", "content_hash", "updated_at"])
    knowledge_changed(current_tenant().pk)
    schedule_embedding(current_tenant().pk)


@transaction.atomic
def similar_questions_add(
    *,
    entry: KnowledgeEntry,
    texts: Iterable[str],
    actor=None,
    source: str = SimilarQuestion.Source.MANUAL,
) -> list[SimilarQuestion]:
    """Add wordings to an entry (those it already has, or that equal its question, are
    skipped); returns the new ones."""
    entry = KnowledgeEntry.objects.get(pk=entry.pk)
    existing = {
        text.normalise(t) for t in entry.similar_questions.values_list("text", flat=True)
    } | {text.normalise(entry.question)}
    new: list[SimilarQuestion] = []
    for value in texts:
        cleaned = clean_similar_text(value)
        if text.normalise(cleaned) in existing:
            continue
        existing.add(text.normalise(cleaned))
        new.append(SimilarQuestion(entry=entry, text=cleaned, source=source, created_by=actor))
    if len(existing) - 1 > MAX_PER_ENTRY:
        raise ValidationError(
            {"text": _("An entry has at most %(n)d similar questions.") % {"n": MAX_PER_ENTRY}}
        )
    if new:
        SimilarQuestion.objects.bulk_create(new)
        _reindex(entry)
    return new


@transaction.atomic
def similar_question_delete(*, similar: SimilarQuestion) -> None:
    entry = similar.entry
    similar.delete()
    _reindex(entry)


@transaction.atomic
def similar_questions_replace(
    *, entry: KnowledgeEntry, texts: Iterable[str], actor=None
) -> list[SimilarQuestion]:
    """Make the entry's similar questions exactly `texts` (the API's and admin's edit)."""
    wanted = [clean_similar_text(t) for t in texts]
    keep = {text.normalise(t) for t in wanted}
    removed = [s for s in entry.similar_questions.all() if text.normalise(s.text) not in keep]
    SimilarQuestion.objects.filter(pk__in=[s.pk for s in removed]).delete()
    similar_questions_add(entry=entry, texts=wanted, actor=actor)
    if removed:
        _reindex(entry)
    return list(entry.similar_questions.all())
