"""Imports: Q&A tables (CSV/XLSX) and documents (TXT, Markdown, DOCX, PDF).

A file is parsed and every item validated before anything is written; a bad
file or row fails the whole job with the reasons, and nothing is saved. Items
whose normalised question and answer already exist in the tenant are skipped,
so importing the same file again creates nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.config import get_config
from helpdesk.import_limits import FileRefused, check_pdf_pages, open_archive, sheet_rows
from helpdesk.spreadsheets import spreadsheet_response
from helpdesk.tenancy import current_tenant
from knowledge import vocabulary
from knowledge.entries import build_entry
from knowledge.generation import knowledge_changed
from knowledge.import_jobs import MAX_DECLARED_ROWS, check_archive, check_queue
from knowledge.models import QUESTION_MAX, ImportJob, KnowledgeEntry

QA_EXTENSIONS = {".csv", ".xlsx"}
DOCUMENT_EXTENSIONS = {".txt", ".md", ".markdown", ".docx", ".pdf"}
MAX_ROWS = 20_000
PROGRESS_EVERY = 50

# Field -> accepted headers; the first is the template's.
COLUMNS = {
    "question": ("问题", "question", "标准问题"),
    "answer": ("答案", "answer", "回答"),
    "category": ("分类", "category", "类别"),
    "tags": ("标签", "tags"),
}
TEMPLATE_EXAMPLE = [
    "如何重置登录密码？",
    "在登录页点击“忘记密码”，按短信验证码重置。",
    "账号登录",
    "密码,登录",
]

_HEADING_RE = re.compile(
    r"^(#{1,6}\s+.+|第[一二三四五六七八九十百0-9]+[章节部分条].{0,40}|[一二三四五六七八九十]+、.{1,40}"
    r"|[0-9]{1,2}(\.[0-9]{1,2})*[.、]\s*\S.{0,40})$"
)
_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?；;.])")


class ImportFileError(Exception):
    """The file as a whole cannot be read."""


@dataclass(frozen=True)
class Item:
    """One future entry and where it came from (row number or passage position)."""

    position: int
    question: str
    answer: str
    category: str = ""
    tags: tuple[str, ...] = ()


def kind_for(file_name: str) -> str | None:
    suffix = PurePath(file_name).suffix.lower()
    if suffix in QA_EXTENSIONS:
        return ImportJob.Kind.QA
    if suffix in DOCUMENT_EXTENSIONS:
        return ImportJob.Kind.DOCUMENT
    return None


# Q&A tables ------------------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("The file is not UTF-8 or GB18030 text."))


def _table_rows(file_name: str, content: bytes) -> list[list[str]]:
    if PurePath(file_name).suffix.lower() == ".csv":
        try:
            return [row for row in csv.reader(io.StringIO(_decode(content)))]
        except csv.Error as exc:  # e.g. a field longer than csv.field_size_limit()
            raise ImportFileError(_("The file is not a readable CSV table.")) from exc
    rows = []
    sheet = sheet_rows(content, max_rows=MAX_DECLARED_ROWS)
    try:
        for row in sheet:
            rows.append(["" if value is None else str(value) for value in row])
            if len(rows) > MAX_ROWS + 1:
                break
    except FileRefused as exc:
        raise ImportFileError(str(exc)) from exc
    finally:
        sheet.close()
    return rows


def parse_qa(file_name: str, content: bytes) -> list[Item]:
    rows = [row for row in _table_rows(file_name, content) if any(c.strip() for c in row)]
    if not rows:
        raise ImportFileError(_("The file is empty."))
    header = [cell.strip().lower() for cell in rows[0]]
    positions: dict[str, int] = {}
    for field, names in COLUMNS.items():
        for name in names:
            if name.lower() in header:
                positions[field] = header.index(name.lower())
                break
    missing = [COLUMNS[f][0] for f in ("question", "answer") if f not in positions]
    if missing:
        raise ImportFileError(
            _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)}
        )
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFileError(_("At most %(n)d rows in one file.") % {"n": MAX_ROWS})

    def cell(row: list[str], field: str) -> str:
        index = positions.get(field)
        return row[index].strip() if index is not None and index < len(row) else ""

    items = []
    for number, row in enumerate(rows[1:], start=2):
        tags = tuple(t.strip() for t in re.split(r"[,，;；]", cell(row, "tags")) if t.strip())
        items.append(
            Item(number, cell(row, "question"), cell(row, "answer"), cell(row, "category"), tags)
        )
    return items


def template_response(file_format: str) -> HttpResponse:
    rows = [[names[0] for names in COLUMNS.values()], TEMPLATE_EXAMPLE]
    return spreadsheet_response(rows, "knowledge-import-template", file_format)


# Documents -------------------------------------------------------------------------------------


def _document_blocks(file_name: str, content: bytes) -> list[tuple[bool, str]]:
    """(is_heading, text) blocks of a document, in order."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix == ".docx":
        from docx import Document

        try:
            open_archive(content, kind="DOCX")
            document = Document(io.BytesIO(content))
        except FileRefused as exc:
            raise ImportFileError(str(exc)) from exc
        except Exception as exc:  # python-docx raises zip, XML and key errors alike
            raise ImportFileError(_("The file is not a readable DOCX document.")) from exc
        blocks = []
        for paragraph in document.paragraphs:
            style = (paragraph.style.name or "").lower() if paragraph.style is not None else ""
            line = paragraph.text.strip()
            if line:
                is_heading = style.startswith(("heading", "title", "标题"))
                blocks.append((is_heading or bool(_HEADING_RE.match(line)), line))
        return blocks
    if suffix == ".pdf":
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(io.BytesIO(content))
            check_pdf_pages(len(reader.pages))
            raw = "\n".join(page.extract_text() or "" for page in reader.pages)
        except FileRefused as exc:
            raise ImportFileError(str(exc)) from exc
        except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
            raise ImportFileError(_("The file is not a readable PDF document.")) from exc
    else:
        raw = _decode(content)
    blocks = []
    for line in raw.splitlines():
        line = line.strip()
        if line:
            is_heading = bool(_HEADING_RE.match(line)) and len(line) <= 60
            blocks.append((is_heading, line.lstrip("#").strip() if is_heading else line))
    return blocks


def _split_long(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    pieces, current = [], ""
    for sentence in _SENTENCE_END_RE.split(paragraph):
        while len(sentence) > max_chars:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:max_chars])
            sentence = sentence[max_chars:]
        if len(current) + len(sentence) > max_chars:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()]


def parse_document(file_name: str, content: bytes, *, max_chars: int) -> list[Item]:
    """Passages along headings and the length limit; the heading becomes the question."""
    title = PurePath(file_name).stem[:100]
    blocks = _document_blocks(file_name, content)
    if not blocks:
        raise ImportFileError(_("The document contains no text."))
    items: list[Item] = []
    heading = ""
    passage = ""

    def flush() -> None:
        nonlocal passage
        body = passage.strip()
        if body:
            first = _SENTENCE_END_RE.split(body)[0][:100]
            question = f"{title} · {heading}" if heading else f"{title} · {first}"
            items.append(Item(len(items) + 1, question[:QUESTION_MAX], body))
        passage = ""

    for is_heading, line in blocks:
        if is_heading:
            flush()
            heading = line[:200]
            continue
        for piece in _split_long(line, max_chars):
            if passage and len(passage) + len(piece) + 1 > max_chars:
                flush()
            passage = f"{passage}\n{piece}" if passage else piece
    flush()
    if not items:
        raise ImportFileError(_("The document contains headings but no text."))
    return items


# Jobs ------------------------------------------------------------------------------------------


def check_upload(*, file_name: str, size: int) -> str:
    """The import kind of an upload, or ValidationError for a wrong type or size."""
    kind = kind_for(file_name)
    if kind is None:
        raise ValidationError(
            {
                "file": _("Unsupported file type. Use %(types)s.")
                % {"types": ", ".join(sorted(QA_EXTENSIONS | DOCUMENT_EXTENSIONS))}
            }
        )
    max_bytes = get_config().get("knowledge.import_max_bytes")
    if not size:
        raise ValidationError({"file": _("The file is empty.")})
    if size > max_bytes:
        raise ValidationError(
            {"file": _("The file is larger than %(n)d bytes.") % {"n": max_bytes}}
        )
    return kind


def import_check(*, file_name: str, content: bytes) -> str:
    """The import kind of an uploaded file, or ValidationError when its type, size or
    archive content is refused."""
    kind = check_upload(file_name=file_name, size=len(content))
    check_archive(file_name=file_name, content=content)
    return kind


def imports_create(*, files: Sequence[tuple[str, bytes]], actor=None) -> list[ImportJob]:
    """Register uploaded (name, content) files as pending jobs, all or none (the caller
    enqueues them): every file is checked and the tenant's queue cap applied before any
    job is created (ValidationError or ImportBusy)."""
    named = [(PurePath(name or "").name[:255], content) for name, content in files]
    kinds = [import_check(file_name=name, content=content) for name, content in named]
    check_queue(new_jobs=len(named))
    with transaction.atomic():
        return [
            ImportJob.objects.create(
                kind=kind,
                file_name=name,
                file_sha256=hashlib.sha256(content).hexdigest(),
                content=content,
                created_by=actor,
            )
            for kind, (name, content) in zip(kinds, named, strict=True)
        ]


def import_create(*, file_name: str, content: bytes, actor=None) -> ImportJob:
    """Register one uploaded file as a pending job (see `imports_create`)."""
    return imports_create(files=[(file_name, content)], actor=actor)[0]


def _fail(job: ImportJob, errors: list[dict]) -> str:
    job.status = ImportJob.Status.FAILED
    job.errors = errors[:200]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "finished_at", "processed"])
    return job.status


def import_run(*, job_id: int) -> str:
    """Run one import job in the active tenant; returns its final status."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING):
        return job.status
    job.status = ImportJob.Status.RUNNING
    job.save(update_fields=["status"])
    content = bytes(job.content)
    try:
        if job.kind == ImportJob.Kind.QA:
            items = parse_qa(job.file_name, content)
        else:
            max_chars = get_config().get("knowledge.passage_max_chars")
            items = parse_document(job.file_name, content, max_chars=max_chars)
    except ImportFileError as exc:
        return _fail(job, [{"row": None, "field": "file", "message": str(exc)}])
    job.total = len(items)
    job.save(update_fields=["total"])

    source = KnowledgeEntry.Source.IMPORT
    if job.kind == ImportJob.Kind.DOCUMENT:
        source = KnowledgeEntry.Source.DOCUMENT
    segmenter = vocabulary.segmenter_for(current_tenant().pk)
    entries: list[KnowledgeEntry] = []
    errors: list[dict] = []
    for index, item in enumerate(items, start=1):
        try:
            entries.append(
                build_entry(
                    question=item.question,
                    answer=item.answer,
                    category=item.category,
                    tags=item.tags,
                    source=source,
                    actor=job.created_by,
                    source_document=job.file_name,
                    source_position=item.position,
                    segmenter=segmenter,
                )
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.append({"row": item.position, "field": field, "message": messages[0]})
        if index % PROGRESS_EVERY == 0:
            job.processed = index
            job.save(update_fields=["processed"])
    job.processed = len(items)
    if errors:
        return _fail(job, errors)

    with transaction.atomic():
        hashes = [entry.content_hash for entry in entries]
        existing = set(
            KnowledgeEntry.objects.filter(content_hash__in=hashes).values_list(
                "content_hash", flat=True
            )
        )
        new = []
        for entry in entries:
            if entry.content_hash not in existing:
                existing.add(entry.content_hash)
                new.append(entry)
        KnowledgeEntry.objects.bulk_create(new, batch_size=500)
        knowledge_changed(job.tenant_id)
        job.created_count = len(new)
        job.skipped_count = len(entries) - len(new)
        job.status = ImportJob.Status.DONE
        job.finished_at = timezone.now()
        job.content = b""  # the uploaded file is not kept once imported
        job.save(
            update_fields=[
                "content",
                "processed",
                "created_count",
                "skipped_count",
                "status",
                "finished_at",
            ]
        )
    return job.status
