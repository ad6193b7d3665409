"""Pull: every page of the table into work orders, linked by record id.

The first pull (or a full one) reads the whole table; later pulls ask only for rows
modified since the newest modified time seen, and skip rows whose modified time has not
moved. Each row is applied in its own transaction, so a bad row never blocks the others.
When both sides changed a row since the last sync, the newer change wins and the other
is written to the work order's timeline.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feishu.bitable import remote
from feishu.bitable.mapping import PUSHED_FIELDS, RowError, row_values, title_of
from feishu.bitable.runs import run_count, run_finish, run_progress, run_start
from feishu.client import FeishuAPIError
from feishu.models import BitableRecordLink, BitableSync, BitableSyncRun
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.services import (
    workorder_add_event,
    workorder_create,
    workorder_transition,
    workorder_update,
)

logger = logging.getLogger(__name__)
Status = BitableSyncRun.Status
# Rows written per commit: fewer commits, while the work-order number counter (locked by
# each new work order) is held for a short time only.
COMMIT_EVERY = 50


def local_values(work_order: WorkOrder) -> dict[str, Any]:
    return {field: getattr(work_order, field) for field in PUSHED_FIELDS}


def _set_status(work_order: WorkOrder, status: str | None) -> None:
    if status is None or status == work_order.status:
        return
    if status not in WorkOrder.Status.values:
        raise RowError(status)
    # A resolved or closed order is reopened before it moves on.
    if work_order.status in (WorkOrder.Status.RESOLVED, WorkOrder.Status.CLOSED) and status not in (
        WorkOrder.Status.OPEN,
        WorkOrder.Status.CLOSED,
    ):
        workorder_transition(work_order=work_order, status=WorkOrder.Status.OPEN, actor=None)
    workorder_transition(work_order=work_order, status=status, actor=None, note=_("From Bitable"))


def _create(sync: BitableSync, record: Any, values: tuple) -> None:
    fields, extra, log = values
    status = fields.pop("status", None)
    resolution = fields.pop("resolution", "")
    work_order = workorder_create(
        title=title_of(fields, extra) or record.record_id,
        source=WorkOrder.Source.FEISHU,
        extra=extra,
        **fields,
    )
    if resolution:
        workorder_update(work_order=work_order, actor=None, resolution=resolution)
    _set_status(work_order, status)
    BitableRecordLink.objects.create(
        sync=sync,
        work_order=work_order,
        record_id=record.record_id,
        external_number=str(extra.get("external_number") or "")[:64],
        remote_modified_ms=remote.modified_ms(record),
        synced_values=local_values(work_order),
        suggestion_log=log,
    )


def _note(work_order: WorkOrder, body: str, values: dict[str, Any]) -> None:
    workorder_add_event(
        work_order=work_order,
        kind=WorkOrderEvent.Kind.COMMENT,
        body=body,
        after={k: str(v) for k, v in values.items()},
    )


def _update(link: BitableRecordLink, record: Any, values: tuple) -> str:
    """Apply a changed row; "updated", or "skipped" when the local change is newer."""
    fields, extra, log = values
    work_order = link.work_order
    remote_ms = remote.modified_ms(record)
    local = local_values(work_order)
    changed_here = {k: v for k, v in local.items() if v != link.synced_values.get(k)}
    if changed_here and work_order.updated_at > remote.as_datetime(remote_ms):
        remote_side = {k: v for k, v in fields.items() if k in changed_here}
        _note(work_order, _("Bitable change not applied: the local change is newer."), remote_side)
        link.remote_modified_ms = remote_ms
        link.save(update_fields=["remote_modified_ms"])
        return "skipped"
    if changed_here:
        _note(work_order, _("Local change replaced by a newer Bitable change."), changed_here)
    status = fields.pop("status", None)
    merged_extra = {**work_order.extra, **extra}
    workorder_update(work_order=work_order, actor=None, extra=merged_extra, **fields)
    _set_status(work_order, status)
    link.remote_modified_ms = remote_ms
    link.synced_values = local_values(work_order)
    link.external_number = str(extra.get("external_number") or link.external_number)[:64]
    link.suggestion_log = log
    link.synced_at = timezone.now()
    link.save()
    return "updated"


def _apply(sync: BitableSync, record: Any, link: BitableRecordLink | None) -> tuple[str, str]:
    if link is not None and remote.modified_ms(record) <= link.remote_modified_ms:
        return "skipped", ""
    try:
        values = row_values(
            record.fields or {},
            mapping=sync.field_mapping,
            status_map=sync.status_map,
            priority_map=sync.priority_map,
        )
        with transaction.atomic():
            if link is None:
                _create(sync, record, values)
                return "created", ""
            outcome = _update(link, record, values)
            return outcome, "" if outcome == "updated" else _("conflict: the local change is newer")
    except RowError as exc:
        return "failed", str(exc)
    except ValidationError as exc:
        return "failed", "; ".join(exc.messages)


def bitable_pull(*, sync: BitableSync, full: bool = False) -> BitableSyncRun:
    """Pull the table into work orders; returns the run with its counts."""
    run = run_start(sync=sync, kind=BitableSyncRun.Kind.PULL, full=full or not sync.watermark_ms)
    newest = sync.watermark_ms or 0
    token = ""
    try:
        remote.check_permission(sync)
        while True:
            after = None if run.full else sync.watermark_ms
            records, token = remote.search_page(sync, page_token=token, modified_after_ms=after)
            run.pages += 1
            ids = [record.record_id for record in records]
            links = {
                link.record_id: link
                for link in BitableRecordLink.objects.filter(
                    sync=sync, record_id__in=ids
                ).select_related("work_order")
            }
            for start in range(0, len(records), COMMIT_EVERY):
                # One commit per batch; each row has its own savepoint inside it.
                with transaction.atomic():
                    for record in records[start : start + COMMIT_EVERY]:
                        outcome, reason = _apply(sync, record, links.get(record.record_id))
                        run_count(run, outcome, record.record_id, reason)
                        newest = max(newest, remote.modified_ms(record))
            run_progress(run)
            if not token:
                break
    except remote.BitableRefused as exc:
        return run_finish(run, Status.REFUSED, str(exc))
    except FeishuAPIError as exc:
        logger.warning("Bitable pull of sync %s stopped: %s", sync.pk, exc)
        return run_finish(run, Status.FAILED, str(exc))
    BitableSync.objects.filter(pk=sync.pk).update(watermark_ms=newest, last_pull_at=timezone.now())
    sync.watermark_ms = newest
    return run_finish(run, Status.DONE)
