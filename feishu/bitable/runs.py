"""The sync log: one BitableSyncRun per pull, push or write-back, with each row's outcome."""

from __future__ import annotations

from django.utils import timezone

from feishu.models import BitableSync, BitableSyncRun

MAX_PROBLEMS = 500


def run_start(*, sync: BitableSync, kind: str, full: bool = False) -> BitableSyncRun:
    return BitableSyncRun.objects.create(sync=sync, kind=kind, full=full)


def run_count(run: BitableSyncRun, outcome: str, record_id: str = "", reason: str = "") -> None:
    setattr(run, outcome, getattr(run, outcome) + 1)
    if reason and len(run.problems) < MAX_PROBLEMS:
        run.problems.append({"record_id": record_id, "outcome": outcome, "reason": reason})


def run_progress(run: BitableSyncRun) -> None:
    run.save(update_fields=["pages", "created", "updated", "skipped", "failed", "problems"])


def run_finish(run: BitableSyncRun, status: str, message: str = "") -> BitableSyncRun:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    run.save()
    return run
