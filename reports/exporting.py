"""The report as files: an XLSX workbook with one sheet per section, or one section as CSV.

Every sheet and CSV file starts with the tenant and the period, then the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.spreadsheets import csv_response, safe_cell, workbook_response
from llm.choices import Purpose
from reports.charts import choice_label
from reports.counters import COUNTERS
from reports.rollups import ACTIVITY_FIELDS
from reports.selectors import Report
from reports.workorder_stats import BREAKDOWN_TITLES

Rows = list[list[Any]]


def _heading(report: Report) -> Rows:
    period = report.period
    return [
        [_("Tenant"), report.tenant.name, report.tenant.slug],
        [_("Period"), period.start.isoformat(), period.end.isoformat()],
        [_("Time zone"), period.zone.key],
        [],
    ]


def _ratio(value: float | None) -> Any:
    return "" if value is None else round(value, 4)


def counters_table(report: Report) -> Rows:
    rows: Rows = [[_("Counter"), _("Name"), _("Value"), _("Previous period"), _("Difference")]]
    for spec in COUNTERS:
        counter = report.counters[spec.name]
        rows.append(
            [
                str(spec.label),
                spec.name,
                *(_ratio(counter[key]) for key in ("value", "previous", "delta")),
            ]
        )
    return rows


ACTIVITY_HEADERS = {
    "conversations": gettext_lazy("Conversations"),
    "handed_off": gettext_lazy("Handed off"),
    "answered_without_handoff": gettext_lazy("Answered without hand-off"),
    "rated_conversations": gettext_lazy("Rated conversations"),
    "rating_sum": gettext_lazy("Sum of ratings"),
    "answers": gettext_lazy("Answers"),
    "knowledge_hits": gettext_lazy("Answers citing knowledge"),
    "low_confidence": gettext_lazy("Low-confidence answers"),
    "failed_answers": gettext_lazy("Failed answers"),
    "thumbs_up": gettext_lazy("Thumbs up"),
    "thumbs_down": gettext_lazy("Thumbs down"),
}


def daily_table(report: Report) -> Rows:
    rows: Rows = [[_("Day"), *(str(ACTIVITY_HEADERS[name]) for name in ACTIVITY_FIELDS)]]
    for day, numbers in sorted(report.numbers.activity.items()):
        rows.append([day.isoformat(), *(numbers[name] for name in ACTIVITY_FIELDS)])
    return rows


def llm_usage_table(report: Report) -> Rows:
    rows: Rows = [
        [
            _("Day"),
            _("Model"),
            _("Purpose"),
            _("Calls"),
            _("Errors"),
            _("Prompt tokens"),
            _("Completion tokens"),
            _("Cost (CNY)"),
        ]
    ]
    ordered = sorted(report.numbers.usage, key=lambda r: (r["day"], r["model"], r["purpose"]))
    for row in ordered:
        rows.append(
            [
                row["day"].isoformat(),
                safe_cell(row["model"]),
                choice_label(Purpose, row["purpose"]),
                row["calls"],
                row["errors"],
                row["prompt_tokens"],
                row["completion_tokens"],
                float(row["cost"]),
            ]
        )
    return rows


def workorders_table(report: Report) -> Rows:
    rows: Rows = [[_("Breakdown"), _("Value"), _("Work orders")]]
    for name, items in report.charts["workorders"].items():
        title = str(BREAKDOWN_TITLES[name])
        rows += [[title, safe_cell(item["label"]), item["count"]] for item in items]
    return rows


def sla_table(report: Report) -> Rows:
    rows: Rows = [[_("Priority"), _("Due"), _("Done in time"), _("Compliance")]]
    for item in report.charts["sla"]:
        rows.append([item["label"], item["due"], item["met"], _ratio(item["rate"])])
    return rows


def alerts_table(report: Report) -> Rows:
    rows: Rows = [[_("Day"), _("Level"), _("Alerts")]]
    days = report.charts["days"]
    for series in report.charts["alerts"]:
        rows += [
            [day, series["label"], count]
            for day, count in zip(days, series["data"], strict=True)
            if count
        ]
    return rows


def unanswered_table(report: Report) -> Rows:
    rows: Rows = [
        [
            _("Question"),
            _("Times asked"),
            _("Handed off"),
            _("Low confidence"),
            _("Thumbs down"),
            _("Last asked"),
            _("Similar questions"),
        ]
    ]
    for group in report.unanswered:
        reasons = group["reasons"]
        rows.append(
            [
                safe_cell(group["question"]),
                group["count"],
                reasons["handoff"],
                reasons["low_confidence"],
                reasons["thumbs_down"],
                group["last_at"].astimezone(report.period.zone).strftime("%Y-%m-%d %H:%M"),
                safe_cell(" | ".join(group["examples"])),
            ]
        )
    return rows


TABLES: dict[str, tuple[Any, Callable[[Report], Rows]]] = {
    "counters": (gettext_lazy("Counters"), counters_table),
    "daily": (gettext_lazy("Conversations per day"), daily_table),
    "llm_usage": (gettext_lazy("LLM usage"), llm_usage_table),
    "workorders": (gettext_lazy("Work orders"), workorders_table),
    "sla": (gettext_lazy("SLA compliance"), sla_table),
    "alerts": (gettext_lazy("Alerts"), alerts_table),
    "unanswered": (gettext_lazy("Unanswered questions"), unanswered_table),
}


def _filename(report: Report, suffix: str = "") -> str:
    period = report.period
    return f"report-{report.tenant.slug}-{period.start:%Y%m%d}-{period.end:%Y%m%d}{suffix}"


def workbook(report: Report) -> HttpResponse:
    sheets = [(str(title), _heading(report) + build(report)) for title, build in TABLES.values()]
    return workbook_response(sheets, _filename(report))


def table_csv(report: Report, name: str) -> HttpResponse:
    _title, build = TABLES[name]
    return csv_response(_heading(report) + build(report), _filename(report, f"-{name}"))
