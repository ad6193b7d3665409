"""Reading and validating work-order import files (XLSX or CSV), and the template.

Column names are part of the file format that the old system used (标题, 描述,
分类, 优先级, 状态, 解决方案, 满意度); English field names work as well. Columns
that match no field are kept in `extra`. A file is validated completely before
anything is written, so every bad row can be reported at once.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import User
from helpdesk.config import get_config
from helpdesk.import_limits import FileRefused, import_slot, sheet_rows
from helpdesk.tenancy import current_tenant
from workorders.models import WorkOrder
from workorders.rules import check_extra
from workorders.selectors import assignable_users
from workorders.services import workorders_import

# Field -> accepted column headers. The first header is the one the template uses.
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": ("标题", "工单标题", "问题标题", "title"),
    "description": ("描述", "问题描述", "详细描述", "description"),
    "category": ("分类", "类别", "问题分类", "category"),
    "priority": ("优先级", "priority"),
    "status": ("状态", "status"),
    "resolution": ("解决方案", "处理结果", "resolution"),
    "satisfaction": ("满意度", "satisfaction"),
    "requester_name": ("提交人", "联系人", "客户姓名", "requester_name"),
    "requester_contact": ("联系方式", "联系电话", "requester_contact"),
    "requester_external_id": ("外部编号", "客户编号", "requester_external_id"),
    "vin": ("VIN", "车架号", "vin"),
    "module": ("模块", "所属模块", "module"),
    "region": ("区域", "地区", "region"),
    "assignee": ("负责人", "处理人", "assignee"),
}

# Value words of the old system, beside the values and their labels.
LEGACY_PRIORITIES = {
    "低": "low",
    "中": "medium",
    "普通": "medium",
    "一般": "medium",
    "高": "high",
    "紧急": "urgent",
    "非常紧急": "urgent",
}
LEGACY_STATUSES = {
    "待处理": "open",
    "新建": "open",
    "未处理": "open",
    "处理中": "in_progress",
    "进行中": "in_progress",
    "待反馈": "pending",
    "待回复": "pending",
    "挂起": "pending",
    "已解决": "resolved",
    "已完成": "resolved",
    "已关闭": "closed",
    "关闭": "closed",
}

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_EMPTY_ROWS = 10000

# (row number in the file, cells)
type Row = tuple[int, list[Any]]


@dataclass
class ImportResult:
    rows: list[dict[str, Any]]
    errors: dict[int, dict[str, list[str]]]


def _choice_words(choices: type, legacy: dict[str, str]) -> dict[str, str]:
    words = {key.lower(): value for key, value in legacy.items()}
    for value, label in choices.choices:
        words[value.lower()] = value
        for language in ("en", "zh-hans"):
            with translation.override(language):
                words[str(label).strip().lower()] = value
    return words


def _header_map(headers: list[str]) -> tuple[dict[int, str], dict[int, str]]:
    """Column index -> field, and column index -> header of the columns kept in `extra`."""
    lookup = {alias.lower(): field for field, aliases in COLUMNS.items() for alias in aliases}
    fields: dict[int, str] = {}
    extras: dict[int, str] = {}
    for index, header in enumerate(headers):
        if not header:
            continue
        field = lookup.get(header.lower())
        if field is None:
            extras[index] = header
        elif field in fields.values():
            raise ValidationError(
                {"file": _("The column “%(header)s” appears twice.") % {"header": header}}
            )
        else:
            fields[index] = field
    if "title" not in fields.values():
        raise ValidationError(
            {"file": _("The file has no title column (标题 or title) in its first row.")}
        )
    return fields, extras


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _read_xlsx(data: bytes, limit: int) -> list[Row]:
    rows = sheet_rows(data, max_rows=limit + 1 + MAX_EMPTY_ROWS)
    try:
        return _first_rows(rows, limit)
    except FileRefused as exc:
        raise ValidationError({"file": str(exc)}) from exc
    finally:
        rows.close()


def _first_rows(rows: Iterable[Sequence[Any]], limit: int) -> list[Row]:
    """Non-empty rows with their row numbers in the file; stops past header + `limit` rows.

    Empty rows are skipped but counted, so a file of endless empty rows (a small
    compressed XLSX can hold millions) is refused instead of read to the end.
    """
    kept = []
    for number, row in enumerate(rows, start=1):
        if number > limit + MAX_EMPTY_ROWS:
            raise ValidationError(
                {"file": _("The file has too many rows (counting empty ones); split it.")}
            )
        if any(_cell_text(cell) for cell in row):
            kept.append((number, list(row)))
            if len(kept) > limit + 1:
                break
    return kept


def _read_csv(data: bytes, limit: int) -> list[Row]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValidationError({"file": _("The CSV file is neither UTF-8 nor GBK encoded.")})
    try:
        return _first_rows(csv.reader(io.StringIO(text)), limit)
    except csv.Error as exc:
        raise ValidationError(
            {"file": _("The CSV file cannot be read: %(e)s") % {"e": exc}}
        ) from exc


def read_rows(upload: BinaryIO, name: str) -> list[Row]:
    limit = get_config().get("workorders.import_max_rows")
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationError({"file": _("The file is larger than 10 MB.")})
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        rows = _read_xlsx(data, limit)
    elif lowered.endswith(".csv"):
        rows = _read_csv(data, limit)
    else:
        raise ValidationError({"file": _("Upload an .xlsx or .csv file.")})
    if len(rows) < 2:
        raise ValidationError({"file": _("The file has no rows below its header row.")})
    if len(rows) - 1 > limit:
        raise ValidationError(
            {"file": _("The file has more than %(n)d rows; split it.") % {"n": limit}}
        )
    return rows


def validate_rows(rows: list[Row]) -> ImportResult:
    """Turn raw rows (header first) into keyword arguments of WorkOrder, or errors per row."""
    headers = [_cell_text(cell) for cell in rows[0][1]]
    fields, extras = _header_map(headers)
    priorities = _choice_words(WorkOrder.Priority, LEGACY_PRIORITIES)
    statuses = _choice_words(WorkOrder.Status, LEGACY_STATUSES)
    tenant = current_tenant()
    users = {user.username.lower(): user for user in assignable_users()}
    valid: list[dict[str, Any]] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for number, raw in rows[1:]:
        cells = [_cell_text(cell) for cell in raw]
        values = {field: cells[i] if i < len(cells) else "" for i, field in fields.items()}
        row_errors: dict[str, list[str]] = {}
        row = _convert(values, priorities, statuses, users, row_errors)
        row["extra"] = {
            header: cells[i] for i, header in extras.items() if i < len(cells) and cells[i]
        }
        _validate_model_fields(row, tenant, row_errors)
        if row_errors:
            errors[number] = row_errors
        else:
            valid.append(row)
    return ImportResult(rows=valid, errors=errors)


def _convert(
    values: dict[str, str],
    priorities: dict[str, str],
    statuses: dict[str, str],
    users: dict[str, User],
    errors: dict[str, list[str]],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        name: value
        for name, value in values.items()
        if name not in ("priority", "status", "satisfaction", "assignee")
    }
    row["vin"] = row.get("vin", "").upper()
    priority = values.get("priority", "")
    row["priority"] = priorities.get(priority.lower()) if priority else WorkOrder.Priority.MEDIUM
    if row["priority"] is None:
        errors["priority"] = [_("Unknown priority “%(value)s”.") % {"value": priority}]
    status = values.get("status", "")
    row["status"] = statuses.get(status.lower()) if status else WorkOrder.Status.OPEN
    if row["status"] is None:
        errors["status"] = [_("Unknown status “%(value)s”.") % {"value": status}]
    satisfaction = values.get("satisfaction", "")
    row["satisfaction"] = _satisfaction(satisfaction) if satisfaction else None
    if satisfaction and row["satisfaction"] is None:
        errors["satisfaction"] = [_("Satisfaction must be a whole number from 1 to 5.")]
    username = values.get("assignee", "")
    row["assignee"] = users.get(username.lower()) if username else None
    if username and row["assignee"] is None:
        errors["assignee"] = [
            _("No active agent with the username “%(value)s”.") % {"value": username}
        ]
    return row


def _satisfaction(text: str) -> int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 1 <= value <= 5 else None


def _validate_model_fields(row: dict[str, Any], tenant, errors: dict[str, list[str]]) -> None:
    """Model-level checks (lengths, choices) of the fields that passed conversion."""
    try:
        check_extra(row["extra"])
        WorkOrder(tenant=tenant, **row).full_clean(
            exclude=["number", "assignee", "tenant", *errors], validate_constraints=False
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)


def template_headers() -> list[str]:
    return [aliases[0] for aliases in COLUMNS.values()]


class ImportRowsError(ValidationError):
    """Some rows are invalid; `row_errors` maps each row number to its field errors."""

    def __init__(self, row_errors: dict[int, dict[str, list[str]]]) -> None:
        self.row_errors = row_errors
        super().__init__(
            _("%(n)d rows have errors; nothing was imported.") % {"n": len(row_errors)},
            code="invalid_rows",
        )


def import_file(*, upload: BinaryIO, name: str, actor: User | None) -> list[WorkOrder]:
    """Validate the whole file, then create every row or none (ImportBusy when the tenant
    already runs its share of imports)."""
    with import_slot(current_tenant().pk):
        result = validate_rows(read_rows(upload, name))
        if result.errors:
            raise ImportRowsError(result.errors)
        return workorders_import(rows=result.rows, actor=actor, filename=name)
