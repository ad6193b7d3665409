"""Writes to the knowledge base. The tenant is always the active scope.

Validation problems raise Django's ValidationError with a dict of fields; the
API turns it into a 400. Every write of question or answer also writes the
segmented text, which the database indexes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.config import get_config
from helpdesk.tenancy import current_tenant
from knowledge import text, vocabulary
from knowledge.entries import build_entry, clean_category, clean_tags, clean_text, index_fields
from knowledge.generation import knowledge_changed
from knowledge.lexicon import shipped_vocabulary
from knowledge.models import QUESTION_MAX, CustomWord, KnowledgeEntry, SynonymGroup
from knowledge.search import search
from knowledge.similar_questions import similar_questions_add, similar_questions_replace
from knowledge.tasks import reindex_tenant, schedule_embedding
from knowledge.vocabulary import forget_vocabulary_version
from workorders.models import WorkOrder

MAX_BULK_IDS = 500
MAX_SYNONYM_TERMS = 30

EDITABLE_FIELDS = ("question", "answer", "category", "tags", "is_active", "similar_questions")


@transaction.atomic
def entry_create(
    *,
    question: str,
    answer: str,
    category: str = "",
    tags: Sequence[str] = (),
    source: str = KnowledgeEntry.Source.MANUAL,
    actor=None,
    verified: bool = False,
    work_order=None,
    similar_questions: Sequence[str] = (),
) -> KnowledgeEntry:
    entry = build_entry(
        question=question,
        answer=answer,
        category=category,
        tags=tags,
        source=source,
        actor=actor,
        verified=verified,
        work_order=work_order,
    )
    entry.save()
    if similar_questions:
        similar_questions_add(entry=entry, texts=similar_questions, actor=actor)
    schedule_embedding(entry.tenant_id)
    return entry


@transaction.atomic
def entry_update(*, entry: KnowledgeEntry, actor=None, **changes: Any) -> KnowledgeEntry:
    """Change question, answer, category, tags or is_active.

    A changed question or answer takes the verification away: somebody has to check
    the new text before the assistant prefers it again.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    entry = KnowledgeEntry.objects.select_for_update().get(pk=entry.pk)
    question, answer = clean_text(
        changes.get("question", entry.question), changes.get("answer", entry.answer)
    )
    text_changed = (question, answer) != (entry.question, entry.answer)
    entry.question, entry.answer = question, answer
    if "category" in changes:
        entry.category = clean_category(changes["category"])
    if "tags" in changes:
        entry.tags = clean_tags(changes["tags"])
    if "is_active" in changes:
        entry.is_active = bool(changes["is_active"])
    if text_changed:
        index_fields(entry)
        entry.verified, entry.verified_by, entry.verified_at = False, None, None
    entry.updated_by = actor
    entry.save()
    if "similar_questions" in changes:
        similar_questions_replace(entry=entry, texts=changes["similar_questions"], actor=actor)
    if text_changed or "is_active" in changes:
        schedule_embedding(entry.tenant_id)
    return entry


@transaction.atomic
def entry_verify(*, entry: KnowledgeEntry, actor) -> KnowledgeEntry:
    entries_verify(entry_ids=[entry.pk], actor=actor)
    entry.refresh_from_db()
    return entry


@transaction.atomic
def entry_unverify(*, entry: KnowledgeEntry, actor) -> KnowledgeEntry:
    entries_unverify(entry_ids=[entry.pk], actor=actor)
    entry.refresh_from_db()
    return entry


@transaction.atomic
def entry_deactivate(*, entry: KnowledgeEntry, actor=None) -> KnowledgeEntry:
    entries_deactivate(entry_ids=[entry.pk], actor=actor)
    entry.refresh_from_db()
    return entry


def _now():
    return timezone.now()


def _check_ids(entry_ids: Sequence[int]) -> list[int]:
    ids = list(dict.fromkeys(entry_ids))
    if not ids:
        raise ValidationError({"ids": _("Give at least one id.")})
    if len(ids) > MAX_BULK_IDS:
        raise ValidationError({"ids": _("At most %(n)d ids at once.") % {"n": MAX_BULK_IDS}})
    found = set(KnowledgeEntry.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError(
            {"ids": _("Unknown ids: %(ids)s.") % {"ids": ", ".join(map(str, missing[:20]))}}
        )
    return ids


@transaction.atomic
def entries_verify(*, entry_ids: Sequence[int], actor) -> int:
    """Verify entries (all of them or, if any id is unknown, none). Returns how many changed."""
    ids = _check_ids(entry_ids)
    knowledge_changed(current_tenant().pk)
    return KnowledgeEntry.objects.filter(pk__in=ids, verified=False).update(
        verified=True, verified_by=actor, verified_at=_now(), updated_by=actor, updated_at=_now()
    )


@transaction.atomic
def entries_unverify(*, entry_ids: Sequence[int], actor) -> int:
    """Take the verification away (all of them or none). Returns how many rows were written."""
    ids = _check_ids(entry_ids)
    knowledge_changed(current_tenant().pk)
    return KnowledgeEntry.objects.filter(pk__in=ids).update(
        verified=False, verified_by=None, verified_at=None, updated_by=actor, updated_at=_now()
    )


@transaction.atomic
def entries_deactivate(*, entry_ids: Sequence[int], actor=None) -> int:
    ids = _check_ids(entry_ids)
    knowledge_changed(current_tenant().pk)
    schedule_embedding(current_tenant().pk)  # their vectors are deleted
    return KnowledgeEntry.objects.filter(pk__in=ids, is_active=True).update(
        is_active=False, updated_by=actor, updated_at=_now()
    )


@transaction.atomic
def entries_record_usage(*, entry_ids: Iterable[int], used_at: datetime | None = None) -> int:
    """Count one use of each entry (an answer cited it at `used_at`, default now). Atomic
    increments, no lost updates."""
    ids = list(dict.fromkeys(int(i) for i in entry_ids))
    if not ids:
        return 0
    return KnowledgeEntry.objects.filter(pk__in=ids).update(
        usage_count=F("usage_count") + 1, last_used_at=used_at or _now()
    )


def find_duplicate(question: str, answer: str = "") -> tuple[KnowledgeEntry, float] | None:
    """The most similar active entry at or above the duplicate threshold, if any."""
    threshold = get_config().get("knowledge.duplicate_threshold")
    probe = vocabulary.segment(question)
    best: tuple[KnowledgeEntry, float] | None = None
    for hit in search(question, limit=5):
        similarity = text.weighted_cosine(probe, hit.entry.question_tokens.split())
        if similarity >= threshold and (best is None or similarity > best[1]):
            best = (hit.entry, similarity)
    return best


@transaction.atomic
def entry_create_from_workorder(*, work_order, actor, verified: bool = False) -> KnowledgeEntry:
    """Turn a resolved or closed work order into an entry linked to it.

    The title (and description) become the question, the resolution the answer.
    Refused when the work order already has an entry or a near-duplicate exists.
    """
    if work_order.status not in (WorkOrder.Status.RESOLVED, WorkOrder.Status.CLOSED):
        raise ValidationError(
            {"work_order": _("Only a resolved or closed work order can become an entry.")}
        )
    if not (work_order.resolution or "").strip():
        raise ValidationError({"work_order": _("The work order has no resolution.")})
    existing = KnowledgeEntry.objects.filter(work_order=work_order).first()
    if existing is not None:
        raise ValidationError(
            {
                "work_order": _("Entry %(id)d was already made from this work order.")
                % {"id": existing.pk}
            },
            code="duplicate",
        )
    question = work_order.title.strip()
    description = (work_order.description or "").strip()
    if description:
        question = f"{question}\n{description}"[:QUESTION_MAX]
    duplicate = find_duplicate(work_order.title)
    if duplicate is not None:
        raise ValidationError(
            {
                "work_order": _("Entry %(id)d already answers this (similarity %(sim).2f).")
                % {"id": duplicate[0].pk, "sim": duplicate[1]}
            },
            code="duplicate",
        )
    return entry_create(
        question=question,
        answer=work_order.resolution,
        category=work_order.category or "",
        source=KnowledgeEntry.Source.WORK_ORDER,
        actor=actor,
        verified=verified,
        work_order=work_order,
    )


# Vocabulary ------------------------------------------------------------------------------------


def vocabulary_changed() -> None:
    """Re-index the tenant after its words or synonym groups changed (the admin edits them)."""
    tenant = current_tenant()
    forget_vocabulary_version(tenant.pk)
    transaction.on_commit(lambda: reindex_tenant.enqueue(tenant_id=tenant.pk))


def _clean_vocabulary(
    words: Iterable[str], synonyms: Iterable[Sequence[str]]
) -> tuple[list[str], list[list[str]]]:
    clean_words = []
    for word in words:
        word = str(word).strip()
        if not word or len(word) > 48:
            raise ValidationError({"words": _("A word has 1 to 48 characters.")})
        if word not in clean_words:
            clean_words.append(word)
    clean_groups = []
    for group in synonyms:
        if isinstance(group, str) or not isinstance(group, Sequence):
            raise ValidationError({"synonyms": _("Each synonym group is a list of terms.")})
        terms = list(dict.fromkeys(str(t).strip() for t in group if str(t).strip()))
        if len(terms) < 2 or len(terms) > MAX_SYNONYM_TERMS:
            raise ValidationError(
                {"synonyms": _("A synonym group has 2 to %(n)d terms.") % {"n": MAX_SYNONYM_TERMS}}
            )
        clean_groups.append(terms)
    return clean_words, clean_groups


@transaction.atomic
def vocabulary_replace(
    *, words: Iterable[str], synonyms: Iterable[Sequence[str]]
) -> tuple[int, int]:
    """Replace the tenant's dictionary and synonym groups; re-indexes in the background."""
    clean_words, clean_groups = _clean_vocabulary(words, synonyms)
    CustomWord.objects.all().delete()
    SynonymGroup.objects.all().delete()
    CustomWord.objects.bulk_create(CustomWord(word=w) for w in clean_words)
    SynonymGroup.objects.bulk_create(SynonymGroup(terms=t) for t in clean_groups)
    vocabulary_changed()
    return len(clean_words), len(clean_groups)


@transaction.atomic
def vocabulary_add(
    *, words: Iterable[str], synonyms: Iterable[Sequence[str]], shipped: bool = False
) -> tuple[int, int]:
    """Add words and groups the tenant does not have yet (a group is skipped when its first
    term is already in one of the tenant's groups); re-indexes in the background when
    anything was added. Returns (words added, groups added)."""
    clean_words, clean_groups = _clean_vocabulary(words, synonyms)
    have_words = {text.normalise(w) for w in CustomWord.objects.values_list("word", flat=True)}
    have_terms = {
        text.normalise(str(term))
        for terms in SynonymGroup.objects.values_list("terms", flat=True)
        for term in terms
    }
    new_words = [w for w in clean_words if text.normalise(w) not in have_words]
    new_groups = [g for g in clean_groups if text.normalise(g[0]) not in have_terms]
    CustomWord.objects.bulk_create(CustomWord(word=w, shipped=shipped) for w in new_words)
    SynonymGroup.objects.bulk_create(SynonymGroup(terms=g, shipped=shipped) for g in new_groups)
    if new_words or new_groups:
        vocabulary_changed()
    return len(new_words), len(new_groups)


def vocabulary_seed_shipped(*, tenant=None) -> tuple[int, int]:
    """Give the active tenant the shipped lexicon (a tenant initialiser; safe to repeat)."""
    words, groups = shipped_vocabulary()
    return vocabulary_add(words=words, synonyms=groups, shipped=True)
