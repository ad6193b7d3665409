"""Background work of the knowledge base: re-indexing, imports and embeddings."""

from django.core.cache import cache
from django.db import transaction
from django.tasks import task

from helpdesk.tasks import tenant_task
from knowledge.embedding import QUEUED_KEY, tenant_embed
from knowledge.entries import tenant_reindex
from knowledge.importing import import_run
from llm.embeddings import EmbeddingSettings

QUEUED_SECONDS = 300


@task()
@tenant_task
def reindex_tenant(*, tenant_id: int) -> int:
    """Re-segment the tenant's entries after its dictionary or synonyms changed."""
    return tenant_reindex()


@task()
@tenant_task
def run_import(*, tenant_id: int, job_id: int) -> str:
    status = import_run(job_id=job_id)
    schedule_embedding(tenant_id)
    return status


@task()
@tenant_task
def embed_tenant(*, tenant_id: int) -> int:
    """Embed the tenant's new and changed texts (see knowledge.embedding)."""
    return tenant_embed().embedded


def schedule_embedding(tenant_id: int) -> None:
    """Enqueue `embed_tenant` once the current transaction commits (at most one waiting
    per tenant); nothing when no embeddings service is configured."""
    if not EmbeddingSettings.load().configured:
        return

    def enqueue() -> None:
        if cache.add(QUEUED_KEY.format(tenant_id=tenant_id), 1, timeout=QUEUED_SECONDS):
            embed_tenant.enqueue(tenant_id=tenant_id)

    transaction.on_commit(enqueue)
