"""Embedding the knowledge base in the background: entries' questions and their similar
questions, in batches, with progress, again whenever a text or the model changes.

`knowledge.tasks.schedule_embedding(tenant_id)` is called after every write that changes
a text (create, edit, import, similar questions) and by a search that finds no vectors of
the configured model; it enqueues one `embed_tenant` task once the transaction commits,
at most one waiting per tenant. The task embeds what is missing or stale (text hash or model
signature differ), deletes the vectors of texts that are gone, and moves the tenant's
search generation on so that searches read the new vectors.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from helpdesk.tenancy import current_tenant
from knowledge.generation import knowledge_changed
from knowledge.models import EntryVector, KnowledgeEntry, SimilarQuestion
from knowledge.vectors import to_bytes, vector_index
from llm.embeddings import EmbeddingSettings, get_embeddings_client

logger = logging.getLogger(__name__)

QUEUED_KEY = "knowledge:embedding-queued:{tenant_id}"
_PROGRESS_KEY = "knowledge:embedding-progress:{tenant_id}"
PROGRESS_SECONDS = 24 * 3600


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Wanted:
    entry_id: int
    text_key: str
    text: str

    @property
    def hash(self) -> str:
        return text_hash(self.text)


def _wanted_texts() -> Iterator[Wanted]:
    entries = KnowledgeEntry.objects.filter(is_active=True).values_list("id", "question")
    for entry_id, question in entries.iterator(chunk_size=2000):
        yield Wanted(entry_id, EntryVector.QUESTION, question)
    similar = SimilarQuestion.objects.filter(entry__is_active=True).values_list(
        "id", "entry_id", "text"
    )
    for similar_id, entry_id, similar_text in similar.iterator(chunk_size=2000):
        yield Wanted(entry_id, f"s{similar_id}", similar_text)


@dataclass
class EmbeddingRun:
    embedded: int = 0
    deleted: int = 0
    backfilled: int = 0
    seconds: float = 0.0


def tenant_embed(*, batch_size: int | None = None) -> EmbeddingRun:
    """Embed the active tenant's missing and stale texts (see the module docstring)."""
    tenant = current_tenant()
    cache.delete(QUEUED_KEY.format(tenant_id=tenant.pk))
    settings = EmbeddingSettings.load()
    run = EmbeddingRun()
    if not settings.configured:
        return run
    started = time.perf_counter()
    signature = settings.signature
    run.backfilled = vector_index().backfill(tenant.pk)
    current = {
        (entry_id, key): (digest, model)
        for entry_id, key, digest, model in EntryVector.objects.values_list(
            "entry_id", "text_key", "text_hash", "model"
        ).iterator(chunk_size=5000)
    }
    wanted = list(_wanted_texts())
    todo = [w for w in wanted if current.get((w.entry_id, w.text_key)) != (w.hash, signature)]
    gone = set(current) - {(w.entry_id, w.text_key) for w in wanted}
    run.deleted = _delete(gone)
    size = batch_size or settings.batch_size * 4
    _progress(tenant.pk, done=0, total=len(todo))
    for start in range(0, len(todo), size):
        batch = todo[start : start + size]
        vectors = get_embeddings_client().embed_passages([w.text for w in batch], settings)
        _store(batch, vectors, signature, settings.dimensions)
        run.embedded += len(batch)
        _progress(tenant.pk, done=run.embedded, total=len(todo))
    if run.embedded or run.deleted or run.backfilled:
        with transaction.atomic():
            knowledge_changed(tenant.pk)
    run.seconds = time.perf_counter() - started
    logger.info(
        "Embedded %d texts (%d vectors deleted) for tenant %s in %.1f s",
        run.embedded,
        run.deleted,
        tenant.pk,
        run.seconds,
    )
    return run


@transaction.atomic
def _store(batch: list[Wanted], vectors, signature: str, dimensions: int) -> None:
    keys = {(w.entry_id, w.text_key) for w in batch}
    existing = {
        (row.entry_id, row.text_key): row
        for row in EntryVector.objects.filter(entry_id__in={w.entry_id for w in batch})
        if (row.entry_id, row.text_key) in keys
    }
    changed, new = [], []
    for wanted, vector in zip(batch, vectors, strict=True):
        row = existing.get((wanted.entry_id, wanted.text_key)) or EntryVector(
            entry_id=wanted.entry_id, text_key=wanted.text_key
        )
        row.text_hash, row.model, row.dimensions = wanted.hash, signature, dimensions
        row.vector = to_bytes(vector)
        (changed if row.pk else new).append(row)
    vector_index().replacing([row.pk for row in changed])
    EntryVector.objects.bulk_update(changed, ["text_hash", "model", "dimensions", "vector"])
    EntryVector.objects.bulk_create(new)
    if new and new[0].pk is None:  # backends that do not return ids
        new = list(
            EntryVector.objects.filter(
                entry_id__in={r.entry_id for r in new}, text_key__in={r.text_key for r in new}
            )
        )
    vector_index().stored(changed + new)


def _delete(gone: set[tuple[int, str]]) -> int:
    deleted = 0
    by_entry: dict[int, list[str]] = {}
    for entry_id, key in gone:
        by_entry.setdefault(entry_id, []).append(key)
    for entry_id, keys in by_entry.items():
        deleted += EntryVector.objects.filter(entry_id=entry_id, text_key__in=keys).delete()[0]
    return deleted


def _progress(tenant_id: int, *, done: int, total: int) -> None:
    cache.set(
        _PROGRESS_KEY.format(tenant_id=tenant_id),
        {"done": done, "total": total, "at": time.time()},
        timeout=PROGRESS_SECONDS,
    )


def embedding_progress(tenant_id: int) -> dict | None:
    """{"done", "total", "at"} of the tenant's latest embedding run, if any."""
    return cache.get(_PROGRESS_KEY.format(tenant_id=tenant_id))
