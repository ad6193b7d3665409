"""Background work of the knowledge base: re-indexing and imports."""

from django.tasks import task

from helpdesk.tasks import tenant_task
from knowledge.entries import tenant_reindex
from knowledge.importing import import_run


@task()
@tenant_task
def reindex_tenant(*, tenant_id: int) -> int:
    """Re-segment the tenant's entries after its dictionary or synonyms changed."""
    return tenant_reindex()


@task()
@tenant_task
def run_import(*, tenant_id: int, job_id: int) -> str:
    return import_run(job_id=job_id)
