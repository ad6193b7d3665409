"""Building a knowledge entry: the validation and indexing every way of writing one shares
(the services, imports and re-indexing)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.tenancy import current_tenant
from knowledge import text, vocabulary
from knowledge.generation import knowledge_changed
from knowledge.models import ANSWER_MAX, QUESTION_MAX, KnowledgeEntry, SimilarQuestion
from knowledge.vocabulary import forget_vocabulary_version

MAX_TAGS = 20
MAX_TAG_CHARS = 32


def content_hash(question: str, answer: str) -> str:
    normalised = (
        " ".join(text.normalise(question).split()) + "\n" + " ".join(text.normalise(answer).split())
    )
    return hashlib.sha256(normalised.encode()).hexdigest()


def clean_tags(tags: Iterable[Any]) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        raise ValidationError({"tags": _("Tags must be a list of strings.")})
    cleaned: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValidationError({"tags": _("Tags must be a list of strings.")})
        tag = tag.strip()
        if len(tag) > MAX_TAG_CHARS:
            raise ValidationError(
                {"tags": _("A tag has at most %(n)d characters.") % {"n": MAX_TAG_CHARS}}
            )
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": _("At most %(n)d tags.") % {"n": MAX_TAGS}})
    return cleaned


def clean_text(question: str, answer: str) -> tuple[str, str]:
    errors = {}
    question = (question or "").strip()
    answer = (answer or "").strip()
    if not question:
        errors["question"] = _("The question may not be blank.")
    elif len(question) > QUESTION_MAX:
        errors["question"] = _("The question has at most %(n)d characters.") % {"n": QUESTION_MAX}
    if not answer:
        errors["answer"] = _("The answer may not be blank.")
    elif len(answer) > ANSWER_MAX:
        errors["answer"] = _("The answer has at most %(n)d characters.") % {"n": ANSWER_MAX}
    if errors:
        raise ValidationError(errors)
    return question, answer


def clean_category(category: str | None) -> str:
    category = (category or "").strip()
    if len(category) > 64:
        raise ValidationError({"category": _("The category has at most 64 characters.")})
    return category


def index_fields(
    entry: KnowledgeEntry,
    segmenter: text.Segmenter | None = None,
    similar: Sequence[str] | None = None,
) -> None:
    """Fill the segmented columns and the content hash from question and answer.

    The similar questions (read from the database unless given) are indexed with the
    question, one per line, so they are searched like it (`knowledge.lexical`).
    """
    segmenter = segmenter or vocabulary.segmenter_for(current_tenant().pk)
    if similar is None:
        similar = (
            list(SimilarQuestion.objects.filter(entry_id=entry.pk).values_list("text", flat=True))
            if entry.pk
            else []
        )
    entry.question_tokens = "\n".join(
        " ".join(segmenter.segment(question)) for question in [entry.question, *similar]
    )
    entry.answer_tokens = " ".join(segmenter.segment(entry.answer))
    entry.content_hash = content_hash(entry.question, entry.answer)


def build_entry(
    *,
    question: str,
    answer: str,
    category: str = "",
    tags: Sequence[str] = (),
    source: str = KnowledgeEntry.Source.MANUAL,
    actor=None,
    verified: bool = False,
    work_order=None,
    source_document: str = "",
    source_position: int | None = None,
    segmenter: text.Segmenter | None = None,
) -> KnowledgeEntry:
    """A validated, indexed, unsaved entry (imports save many at once)."""
    question, answer = clean_text(question, answer)
    category = clean_category(category)
    if source not in KnowledgeEntry.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    entry = KnowledgeEntry(
        question=question,
        answer=answer,
        category=category,
        tags=clean_tags(tags),
        source=source,
        source_document=source_document[:255],
        source_position=source_position,
        work_order=work_order,
        created_by=actor,
        updated_by=actor,
    )
    if verified:
        entry.verified = True
        entry.verified_by = actor
        entry.verified_at = timezone.now()
    index_fields(entry, segmenter)
    return entry


@transaction.atomic
def tenant_reindex(*, batch_size: int = 500) -> int:
    """Re-segment every entry of the active tenant with its current vocabulary."""
    tenant = current_tenant()
    forget_vocabulary_version(tenant.pk)
    knowledge_changed(tenant.pk)
    segmenter = vocabulary.segmenter_for(tenant.pk)
    similar: dict[int, list[str]] = {}
    for entry_id, similar_text in SimilarQuestion.objects.values_list("entry_id", "text"):
        similar.setdefault(entry_id, []).append(similar_text)
    count = 0
    batch: list[KnowledgeEntry] = []
    for entry in KnowledgeEntry.objects.only("id", "tenant_id", "question", "answer").iterator(
        chunk_size=batch_size
    ):
        index_fields(entry, segmenter, similar.get(entry.pk, []))
        batch.append(entry)
        if len(batch) >= batch_size:
            count += len(batch)
            KnowledgeEntry.objects.bulk_update(batch, ["question_tokens", "answer_tokens"])
            batch = []
    if batch:
        count += len(batch)
        KnowledgeEntry.objects.bulk_update(batch, ["question_tokens", "answer_tokens"])
    return count
