"""CSV and XLSX downloads: one way to write a table as a file response.

Used by the work-order export and import template, and by the knowledge export
and import template. CSV files start with a BOM so that Excel opens UTF-8
Chinese text correctly. `safe_cell` keeps spreadsheet programs from running a
cell as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILE_FORMATS = [("csv", "CSV"), ("xlsx", "XLSX")]
# The OpenAPI responses of an endpoint that answers with one of FILE_FORMATS.
FILE_RESPONSES = {
    (200, "text/csv"): OpenApiTypes.BINARY,
    (200, XLSX_TYPE): OpenApiTypes.BINARY,
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """`value`, with a leading quote when a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_response(rows: Iterable[list[object]], filename: str) -> HttpResponse:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # BOM: Excel opens UTF-8 Chinese text correctly.
    csv.writer(buffer).writerows(rows)
    response = HttpResponse(buffer.getvalue().encode(), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def xlsx_response(rows: Iterable[list[object]], filename: str) -> HttpResponse:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def workbook_response(sheets: Iterable[tuple[str, Iterable[list[object]]]], filename: str):
    """An XLSX workbook with one sheet per (title, rows); titles are cut to Excel's 31."""
    from openpyxl import Workbook  # lazy: only downloads need openpyxl, not start-up

    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return response


def spreadsheet_response(
    rows: Iterable[list[object]], filename: str, file_format: str
) -> HttpResponse:
    """`rows` (header first) as `filename`.xlsx when `file_format` is "xlsx", otherwise CSV."""
    if file_format == "xlsx":
        return xlsx_response(rows, filename)
    return csv_response(rows, filename)
