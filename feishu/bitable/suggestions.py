"""AI建议 write-back, in the format the team reads.

Newest line first; the first suggestion of a day is `MMDD：text`, later ones that day
`MMDD-N：text` with N one more than the highest number already there for that day (the
unnumbered line counts as 1). Older lines are kept below. Nothing but a suggestion is
ever written: an empty text or a failed write is recorded locally instead.
"""

from __future__ import annotations

import re
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from feishu.bitable import remote
from feishu.bitable.mapping import SUGGESTION_FIELD, cell_value
from feishu.bitable.runs import run_count, run_finish, run_start
from feishu.client import FeishuAPIError
from feishu.models import BitableRecordLink, BitableSyncRun
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.services import workorder_add_event

LINE = re.compile(r"^(\d{4})(?:-(\d+))?：")
Status = BitableSyncRun.Status


def log_with_suggestion(log: str, text: str, today: date) -> str:
    stamp = today.strftime("%m%d")
    numbers = [
        int(match.group(2) or 1)
        for line in log.splitlines()
        if (match := LINE.match(line.strip())) and match.group(1) == stamp
    ]
    head = f"{stamp}-{max(numbers) + 1}：" if numbers else f"{stamp}："
    entry = head + " ".join(text.split())
    return f"{entry}\n{log.strip()}" if log.strip() else entry


def _column(link: BitableRecordLink) -> str | None:
    mapping = link.sync.field_mapping
    return next((col for col, field in mapping.items() if field == SUGGESTION_FIELD), None)


def suggestion_write_back(
    *, work_order: WorkOrder, text: str, today: date | None = None
) -> BitableSyncRun | None:
    """Add an AI suggestion to the work order's Bitable row; None when it has no row."""
    link = BitableRecordLink.objects.filter(work_order=work_order).select_related("sync").first()
    if link is None:
        return None
    run = run_start(sync=link.sync, kind=BitableSyncRun.Kind.SUGGESTION)
    column = _column(link)
    if not " ".join(text.split()) or column is None:
        reason = (
            _("empty suggestion") if column else _("no column is mapped to the AI suggestion log")
        )
        run_count(run, "skipped", link.record_id, reason)
        return run_finish(run, Status.FAILED, reason)
    try:
        record = remote.get_record(link.sync, link.record_id)
        current = cell_value((record.fields or {}).get(column)) or ""
        new_log = log_with_suggestion(str(current), text, today or timezone.localdate())
        updated = remote.update_record(link.sync, link.record_id, {column: new_log})
    except (remote.BitableRefused, FeishuAPIError) as exc:
        workorder_add_event(
            work_order=work_order,
            kind=WorkOrderEvent.Kind.COMMENT,
            body=_("The AI suggestion could not be written to Bitable: %(error)s") % {"error": exc},
        )
        run_count(run, "failed", link.record_id, str(exc))
        return run_finish(run, Status.FAILED, str(exc))
    # Our own write is not a change for the next pull to bring back.
    link.suggestion_log = new_log
    link.remote_modified_ms = remote.modified_ms(updated)
    link.save(update_fields=["suggestion_log", "remote_modified_ms"])
    run_count(run, "updated")
    return run_finish(run, Status.DONE)
