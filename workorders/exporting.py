"""CSV and XLSX files of a list of work orders (and the empty import template).

The headers are the import format's headers, so an exported file imports again.
Cells that a spreadsheet would run as a formula are prefixed with a quote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone

from helpdesk.spreadsheets import safe_cell, spreadsheet_response
from workorders.models import WorkOrder


def _time(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


EXPORT_COLUMNS: list[tuple[str, Callable[[WorkOrder], object]]] = [
    ("工单号", lambda w: w.number),
    ("标题", lambda w: w.title),
    ("描述", lambda w: w.description),
    ("分类", lambda w: w.category),
    ("优先级", lambda w: w.get_priority_display()),
    ("状态", lambda w: w.get_status_display()),
    ("来源", lambda w: w.get_source_display()),
    ("负责人", lambda w: w.assignee.username if w.assignee_id else ""),
    ("提交人", lambda w: w.requester_name),
    ("联系方式", lambda w: w.requester_contact),
    ("外部编号", lambda w: w.requester_external_id),
    ("VIN", lambda w: w.vin),
    ("模块", lambda w: w.module),
    ("区域", lambda w: w.region),
    ("解决方案", lambda w: w.resolution),
    ("满意度", lambda w: w.satisfaction if w.satisfaction is not None else ""),
    ("截止时间", lambda w: _time(w.due_at)),
    ("创建时间", lambda w: _time(w.created_at)),
    ("解决时间", lambda w: _time(w.resolved_at)),
    ("关闭时间", lambda w: _time(w.closed_at)),
]


def export_rows(work_orders: Iterable[WorkOrder]) -> Iterable[list[object]]:
    yield [header for header, _getter in EXPORT_COLUMNS]
    for work_order in work_orders:
        yield [safe_cell(str(getter(work_order))) for _header, getter in EXPORT_COLUMNS]


def export_response(queryset: QuerySet[WorkOrder], file_format: str) -> HttpResponse:
    rows = export_rows(queryset.select_related("assignee").iterator(chunk_size=2000))
    filename = f"workorders-{timezone.localtime():%Y%m%d-%H%M%S}"
    return spreadsheet_response(rows, filename, file_format)


def template_response(headers: list[str], file_format: str) -> HttpResponse:
    return spreadsheet_response([headers], "workorders-import-template", file_format)
