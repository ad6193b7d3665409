"""Between Bitable cells and work-order fields: the default mapping (the old system's TR
table), value maps for status and priority, and cell normalisation.

A mapping is {column name: field}. Fields that are work-order columns are set on the
work order; the others (`external_number`, `source`, dates, …) go to its `extra`; the
`ai_suggestion_log` column is the AI建议 log; unknown columns are kept in
`extra["bitable"]` under their own name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

DEFAULT_FIELD_MAPPING = {
    "TR Number": "external_number",
    "TR Description": "description",
    "Type of problem": "category",
    "TR Level": "priority",
    "TR Status": "status",
    "Source": "source",
    "Date creation": "created_at",
    "处理过程": "process_notes",
    "TR tracking": "resolution",
    "Created by": "requester_name",
    "Module（模块）": "module",
    "Wilfulness（责任人）": "assignee_name",
    "Date of close TR": "closed_at",
    "父记录": "parent_record",
    "Has it been updated on the same day": "updated_same_day",
    "Operating time": "operating_time",
    "AI建议": "ai_suggestion_log",
    "Issue Start Time": "issue_started_at",
}
DEFAULT_STATUS_MAP = {
    "待处理": "open",
    "新建": "open",
    "处理中": "in_progress",
    "挂起": "pending",
    "待反馈": "pending",
    "已解决": "resolved",
    "已关闭": "closed",
}
DEFAULT_PRIORITY_MAP = {
    "P0": "urgent",
    "P1": "high",
    "P2": "medium",
    "P3": "low",
    "紧急": "urgent",
    "高": "high",
    "中": "medium",
    "低": "low",
}
# Work-order columns a mapping may feed; everything else is extra data.
WORK_ORDER_FIELDS = (
    "description",
    "category",
    "priority",
    "status",
    "resolution",
    "requester_name",
    "module",
)
# What local edits are written back to the table.
PUSHED_FIELDS = ("description", "category", "priority", "status", "resolution", "module")
DATE_FIELDS = ("created_at", "closed_at", "operating_time", "issue_started_at")
SUGGESTION_FIELD = "ai_suggestion_log"
KNOWN_FIELDS = {
    *WORK_ORDER_FIELDS,
    *DATE_FIELDS,
    "external_number",
    "source",
    "process_notes",
    "assignee_name",
    "parent_record",
    "updated_same_day",
    SUGGESTION_FIELD,
}


class RowError(ValueError):
    """A row that cannot become a work order; the message says why."""


def cell_value(value: Any) -> Any:
    """A cell as plain data: text segments joined, people and links as their names/ids."""
    if isinstance(value, list):
        if all(isinstance(v, dict) and "text" in v for v in value):
            return "".join(str(v["text"]) for v in value)
        if all(isinstance(v, dict) and "name" in v for v in value):
            return "、".join(str(v["name"]) for v in value)
        if all(isinstance(v, dict) and "record_ids" in v for v in value):
            return [rid for v in value for rid in v["record_ids"]]
        return [cell_value(v) for v in value]
    if isinstance(value, dict):
        if "text" in value:
            return str(value["text"])
        if "link_record_ids" in value:
            return list(value["link_record_ids"])
    return value


def _date(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(_("a date cell is not a timestamp: %(value)r") % {"value": value})
    return datetime.fromtimestamp(value / 1000, tz=UTC).isoformat()


def _mapped(value: Any, table: dict[str, str], field: str) -> str:
    text = str(value).strip()
    if text in table:
        return table[text]
    raise RowError(
        _("unknown %(field)s value “%(value)s”: add it to the value map")
        % {"field": field, "value": text}
    )


def row_values(
    cells: dict[str, Any], *, mapping: dict[str, str], status_map: dict, priority_map: dict
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(work-order fields, extra data, AI建议 log) of one record; RowError when unusable."""
    fields: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    log = ""
    for column, raw in cells.items():
        field = mapping.get(column)
        value = cell_value(raw)
        if field is None:
            unknown[column] = value
        elif field == SUGGESTION_FIELD:
            log = str(value or "")
        elif field == "status":
            fields["status"] = _mapped(value, status_map, "status")
        elif field == "priority":
            fields["priority"] = _mapped(value, priority_map, "priority")
        elif field in DATE_FIELDS:
            extra[field] = _date(value)
        elif field in WORK_ORDER_FIELDS:
            fields[field] = str(value if value is not None else "").strip()
        else:
            extra[field] = value
    if unknown:
        extra["bitable"] = unknown
    if not fields.get("description") and not extra.get("external_number"):
        raise RowError(_("the row has neither a number nor a description"))
    return fields, extra, log


def title_of(fields: dict[str, Any], extra: dict[str, Any]) -> str:
    number = str(extra.get("external_number") or "").strip()
    description = " ".join(str(fields.get("description") or "").split())
    return (f"{number} {description[:80]}" if number else description[:100]).strip()[:200]


def cells_for(
    values: dict[str, Any], *, mapping: dict[str, str], status_map: dict, priority_map: dict
) -> dict[str, Any]:
    """The cells to write for changed work-order values (the first option mapping to a
    local status or priority is written back)."""
    columns = {field: column for column, field in mapping.items()}
    reverse_status = {local: remote for remote, local in reversed(list(status_map.items()))}
    reverse_priority = {local: remote for remote, local in reversed(list(priority_map.items()))}
    cells: dict[str, Any] = {}
    for field, value in values.items():
        column = columns.get(field)
        if column is None:
            continue
        if field == "status":
            value = reverse_status.get(value)
        elif field == "priority":
            value = reverse_priority.get(value)
        if value is not None:
            cells[column] = value
    return cells


def default_field_mapping() -> dict[str, str]:
    return dict(DEFAULT_FIELD_MAPPING)


def default_status_map() -> dict[str, str]:
    return dict(DEFAULT_STATUS_MAP)


def default_priority_map() -> dict[str, str]:
    return dict(DEFAULT_PRIORITY_MAP)


def check_mapping(mapping: Any, status_map: Any, priority_map: Any) -> dict[str, str]:
    """Errors of a mapping and value maps, by field name (empty when they are usable)."""
    errors: dict[str, str] = {}
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        errors["field_mapping"] = str(_("A JSON object of column name → field name."))
    else:
        unknown = sorted(set(mapping.values()) - KNOWN_FIELDS)
        if unknown:
            errors["field_mapping"] = str(
                _("Unknown fields: %(fields)s. Known: %(known)s.")
                % {"fields": ", ".join(unknown), "known": ", ".join(sorted(KNOWN_FIELDS))}
            )
    for name, table, allowed in (
        ("status_map", status_map, ("open", "in_progress", "pending", "resolved", "closed")),
        ("priority_map", priority_map, ("low", "medium", "high", "urgent")),
    ):
        if not isinstance(table, dict) or not all(v in allowed for v in table.values()):
            errors[name] = str(
                _("A JSON object of table value → one of %(allowed)s.")
                % {"allowed": ", ".join(allowed)}
            )
    return errors
