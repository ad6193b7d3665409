"""Knowledge import jobs: what an upload must pass before a job is queued, and how long
an uploaded file is kept.

A finished job's file is deleted when it finishes (`importing.import_run`); a failed
job's file is kept `imports.failed_file_retention_days` for inspection, then deleted by
`import_files_prune` (the `prune_import_files` command, for cron).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.config import get_config
from helpdesk.import_limits import (
    FileLimitExceeded,
    FileRefused,
    ImportBusy,
    check_sheet_dimensions,
    open_archive,
)
from knowledge.models import ImportJob

# Rows a Q&A sheet may declare, empty ones included (importing.MAX_ROWS are read).
MAX_DECLARED_ROWS = 40_000
UNFINISHED = (ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
# An unfinished job created longer ago than this no longer counts against the cap: its
# worker crashed or the queue is stuck, and it must not refuse the tenant's uploads for good.
QUEUE_WINDOW = timedelta(days=1)


def check_queue(*, new_jobs: int) -> None:
    """ImportBusy when `new_jobs` more would pass the tenant's cap of unfinished jobs
    (those created within QUEUE_WINDOW)."""
    cap = get_config().get("imports.queued_per_tenant")
    waiting = ImportJob.objects.filter(
        status__in=UNFINISHED, created_at__gte=timezone.now() - QUEUE_WINDOW
    ).count()
    if waiting + new_jobs > cap:
        raise ImportBusy(
            _("This tenant has %(n)d imports waiting or running (at most %(cap)d); try later.")
            % {"n": waiting, "cap": cap}
        )


def check_archive(*, file_name: str, content: bytes) -> None:
    """Refuse a zip bomb or an oversized sheet at upload, before a worker parses it (an
    unreadable file is left to the job, which reports it)."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in (".xlsx", ".docx"):
        return
    try:
        archive = open_archive(content, kind=suffix[1:].upper())
        if suffix == ".xlsx":
            check_sheet_dimensions(archive, max_rows=MAX_DECLARED_ROWS)
    except FileLimitExceeded as exc:
        raise ValidationError({"file": str(exc)}) from exc
    except FileRefused:
        return


def import_files_prune(*, older_than_days: int | None = None) -> int:
    """Delete the uploaded files of every tenant's finished jobs, and of failed jobs that
    finished more than `older_than_days` ago (the configured retention by default).
    Platform maintenance, so across tenants; the number of files deleted."""
    if older_than_days is None:
        older_than_days = get_config().get("imports.failed_file_retention_days")
    cutoff = timezone.now() - timedelta(days=older_than_days)
    expired = Q(status=ImportJob.Status.DONE) | Q(
        status=ImportJob.Status.FAILED, finished_at__lt=cutoff
    )
    with transaction.atomic():
        return ImportJob.all_tenants.filter(expired).exclude(content=b"").update(content=b"")
