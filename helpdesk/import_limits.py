"""Limits of imported files, checked before a parser sees them, and import slots.

An XLSX or DOCX file is a zip archive: a few hundred kilobytes can unpack to gigabytes
(one huge cell, millions of rows) and openpyxl or python-docx would hold all of it in
memory. So an archive is refused on its declared uncompressed size (zipfile enforces
those sizes when reading, so a lie fails the read) and on the dimensions its first
sheet declares, and the sheet is then streamed in openpyxl's read-only mode with a
column bound of our own, ignoring the declared dimensions (a sheet that declares none
must be small, since openpyxl parses it whole to find them). A PDF is refused on its
page count (pypdf bounds each stream's decompressed size itself).

`import_slot` caps the imports one tenant reads at the same time.
"""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _

from helpdesk.config import get_config
from helpdesk.rate_limits import resilient_cache

MAX_ARCHIVE_MEMBERS = 10_000
# How much of a sheet's XML is read to find its <dimension> (it comes first).
DIMENSION_PROBE_BYTES = 64 * 1024
# A sheet without a declared size is parsed whole by openpyxl when the workbook opens
# (about 1 s and 50 MB for this much XML); Excel and WPS always declare it.
UNSIZED_SHEET_MAX_BYTES = 5 * 2**20
SLOT_SECONDS = 15 * 60  # a crashed process's slot frees itself after this
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?\"")
_FIRST_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\b\w+:id=\"([^\"]+)\"")
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*?/?>")


class FileRefused(ValueError):
    """The file exceeds a limit or is not what it claims to be; the message says which."""


class FileLimitExceeded(FileRefused):
    """The file is readable but exceeds a limit."""


class ImportBusy(Exception):
    """The tenant already runs as many imports as it may."""


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def open_archive(data: bytes, *, kind: str) -> zipfile.ZipFile:
    """`data` as a zip archive whose declared content is within the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileRefused(_("The file is not a readable %(kind)s file.") % {"kind": kind}) from exc
    limit_mb = get_config().get("imports.max_uncompressed_mb")
    if len(members) > MAX_ARCHIVE_MEMBERS or sum(m.file_size for m in members) > limit_mb * 2**20:
        raise FileLimitExceeded(
            _("The file unpacks to more than %(mb)d MB; split it or remove unused content.")
            % {"mb": limit_mb}
        )
    return archive


def _read_start(archive: zipfile.ZipFile, name: str, size: int) -> bytes:
    try:
        with archive.open(name) as member:
            return member.read(size)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return b""


def _first_sheet_name(archive: zipfile.ZipFile) -> str | None:
    workbook = _read_start(archive, "xl/workbook.xml", 1024 * 1024)
    relations = _read_start(archive, "xl/_rels/workbook.xml.rels", 1024 * 1024)
    found = _FIRST_SHEET.search(workbook)
    if found is None:
        return None
    for element in _RELATIONSHIP.findall(relations):
        if f'Id="{found.group(1).decode()}"'.encode() in element:
            target = re.search(rb'Target="([^"]+)"', element)
            if target is not None:
                path = target.group(1).decode().lstrip("/")
                return path if path.startswith("xl/") else f"xl/{path}"
    return None


def check_sheet_dimensions(archive: zipfile.ZipFile, *, max_rows: int) -> None:
    """Refuse a first sheet that declares more than `max_rows` rows or too many columns,
    and any sheet over UNSIZED_SHEET_MAX_BYTES that declares no size at all: openpyxl
    parses such a sheet whole when it opens the workbook, to find its size."""
    first = _first_sheet_name(archive)
    for member in archive.infolist():
        name = member.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        found = _DIMENSION.search(_read_start(archive, name, DIMENSION_PROBE_BYTES))
        if found is None:
            if member.file_size > UNSIZED_SHEET_MAX_BYTES:
                raise FileLimitExceeded(
                    _(
                        "A sheet of the file declares no size and is larger than %(mb)d MB; "
                        "save the file again with Excel or WPS, or split it."
                    )
                    % {"mb": UNSIZED_SHEET_MAX_BYTES // 2**20}
                )
        elif name == first:
            _check_declared(found, max_rows=max_rows)


def _check_declared(found: re.Match, *, max_rows: int) -> None:
    last_column, last_row = found.group(3) or found.group(1), found.group(4) or found.group(2)
    max_columns = get_config().get("imports.max_sheet_columns")
    if last_row and int(last_row) > max_rows:
        raise FileLimitExceeded(
            _("The sheet has %(rows)s rows (counting empty ones); at most %(max)d. Split it.")
            % {"rows": int(last_row), "max": max_rows}
        )
    if last_column and _column_number(last_column.decode()) > max_columns:
        raise FileLimitExceeded(_too_many_columns(max_columns))


def _too_many_columns(max_columns: int) -> str:
    return _("The sheet has more than %(max)d columns.") % {"max": max_columns}


def sheet_rows(data: bytes, *, max_rows: int) -> Iterator[tuple[Any, ...]]:
    """The first sheet's rows, streamed, after the archive and dimension checks.

    `max_rows` bounds the declared dimensions (empty rows count); the caller still
    counts the rows it reads, since the declaration may be missing or wrong.
    """
    from openpyxl import load_workbook  # lazy: openpyxl costs 0.2 s to import

    archive = open_archive(data, kind="XLSX")
    check_sheet_dimensions(archive, max_rows=max_rows)
    max_columns = get_config().get("imports.max_sheet_columns")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise FileRefused(_("The file is not a readable XLSX workbook.")) from exc
    try:
        sheet.reset_dimensions()  # never pad rows to what the file declares
        for row in sheet.iter_rows(max_col=max_columns + 1, values_only=True):
            if len(row) > max_columns and row[max_columns] not in (None, ""):
                raise FileLimitExceeded(_too_many_columns(max_columns))
            yield row[:max_columns]
    except FileRefused:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise FileRefused(_("The file is not a readable XLSX workbook.")) from exc
    finally:
        workbook.close()


def check_pdf_pages(page_count: int) -> None:
    limit = get_config().get("imports.max_pdf_pages")
    if page_count > limit:
        raise FileLimitExceeded(
            _("The document has %(n)d pages; at most %(max)d.") % {"n": page_count, "max": limit}
        )


@contextmanager
def import_slot(tenant_id: int) -> Iterator[None]:
    """Hold one of the tenant's `imports.concurrent_per_tenant` slots, or ImportBusy."""
    slots = get_config().get("imports.concurrent_per_tenant")
    owner = secrets.token_hex(8)
    for index in range(slots):
        key = f"import-slot:{tenant_id}:{index}"
        if resilient_cache.add(key, owner, SLOT_SECONDS):
            try:
                yield
            finally:
                if resilient_cache.get(key) == owner:
                    resilient_cache.delete(key)
            return
    raise ImportBusy(
        _("%(n)d imports of this tenant are already running; try again when one finishes.")
        % {"n": slots}
    )
