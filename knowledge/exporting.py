"""The knowledge base as a spreadsheet, in the import template's columns."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone

from helpdesk.spreadsheets import safe_cell, spreadsheet_response
from knowledge import importing

EXPORT_HEADERS = [names[0] for names in importing.COLUMNS.values()] + ["已审核", "使用次数"]


def export_response(queryset, file_format: str) -> HttpResponse:
    rows = [EXPORT_HEADERS]
    for entry in queryset.iterator(chunk_size=2000):
        rows.append(
            [
                safe_cell(entry.question),
                safe_cell(entry.answer),
                safe_cell(entry.category),
                safe_cell(",".join(entry.tags)),
                "1" if entry.verified else "0",
                str(entry.usage_count),
            ]
        )
    filename = f"knowledge-{timezone.localtime():%Y%m%d-%H%M%S}"
    return spreadsheet_response(rows, filename, file_format)
