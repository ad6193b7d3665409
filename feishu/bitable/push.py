"""Push: local changes to mapped fields written back to the table.

A row changed on both sides since the last sync keeps the newer change: when the table's
change is newer, the local change is not written and is recorded in the timeline (the
next pull brings the table's values).
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from feishu.bitable import remote
from feishu.bitable.mapping import cells_for
from feishu.bitable.pull import local_values
from feishu.bitable.runs import run_count, run_finish, run_start
from feishu.client import FeishuAPIError
from feishu.models import BitableRecordLink, BitableSync, BitableSyncRun
from workorders.models import WorkOrderEvent
from workorders.services import workorder_add_event

Status = BitableSyncRun.Status


def _push_link(sync: BitableSync, link: BitableRecordLink) -> tuple[str, str]:
    work_order = link.work_order
    local = local_values(work_order)
    changed = {k: v for k, v in local.items() if v != link.synced_values.get(k)}
    if not changed:
        return "skipped", ""
    record = remote.get_record(sync, link.record_id)
    remote_ms = remote.modified_ms(record)
    if (
        remote_ms > link.remote_modified_ms
        and remote.as_datetime(remote_ms) > work_order.updated_at
    ):
        workorder_add_event(
            work_order=work_order,
            kind=WorkOrderEvent.Kind.COMMENT,
            body=_("Local change not written to Bitable: the table changed later."),
            after={k: str(v) for k, v in changed.items()},
        )
        return "skipped", _("conflict: the Bitable change is newer")
    cells = cells_for(
        changed,
        mapping=sync.field_mapping,
        status_map=sync.status_map,
        priority_map=sync.priority_map,
    )
    if cells:
        updated = remote.update_record(sync, link.record_id, cells)
        link.remote_modified_ms = remote.modified_ms(updated)
    link.synced_values = {**link.synced_values, **changed}
    link.synced_at = timezone.now()
    link.save(update_fields=["remote_modified_ms", "synced_values", "synced_at"])
    return "updated", ""


def bitable_push(*, sync: BitableSync, permission_checked: bool = False) -> BitableSyncRun:
    """Write local changes back; `permission_checked` when a pull of this run just did.
    (Should the permission go in between, the writes are refused and so is the run.)"""
    run = run_start(sync=sync, kind=BitableSyncRun.Kind.PUSH)
    try:
        if not permission_checked:
            remote.check_permission(sync)
        for link in BitableRecordLink.objects.filter(sync=sync).select_related("work_order"):
            try:
                outcome, reason = _push_link(sync, link)
            except FeishuAPIError as exc:
                outcome, reason = "failed", str(exc)
            run_count(run, outcome, link.record_id, reason)
    except remote.BitableRefused as exc:
        return run_finish(run, Status.REFUSED, str(exc))
    except FeishuAPIError as exc:
        return run_finish(run, Status.FAILED, str(exc))
    return run_finish(run, Status.DONE)
