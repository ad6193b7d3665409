"""Spreadsheet and document bombs: how fast they are refused and what memory it costs,
beside what reading them with openpyxl alone (the import before issue 16) costs.

    .venv/bin/python bench/import_bombs.py

Each reading runs in a fresh process that has already imported everything and read the
file's bytes, so that its time and peak RSS growth (VmHWM) are the reading's own.
Reading stops after MAX_READ rows, as the work-order import does.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Rows read at most, as the work-order import does (5,000 rows + 10,000 empty ones).
MAX_READ = 15_001
CASES = {
    "xlsx, one 300 MB cell (300 KB file)": "cell",
    "xlsx, 3,000,000 declared rows (1 KB file)": "rows",
    "xlsx, 1,000,000 real empty rows, no dimension": "empty_rows",
    "docx, 300 MB document.xml (300 KB file)": "docx",
}


def build(kind: str) -> tuple[str, bytes]:
    from helpdesk.testing import crafted_xlsx

    if kind == "cell":
        return "bomb.xlsx", crafted_xlsx(cell_text="a" * (300 * 2**20))
    if kind == "rows":
        return "rows.xlsx", crafted_xlsx(dimension="A1:A3000000")
    if kind == "empty_rows":
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(crafted_xlsx()), "r") as source,
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
        ):
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    rows = "".join(f'<row r="{n}"/>' for n in range(2, 1_000_001))
                    data = data.replace(b'<dimension ref="A1:A1"/>', b"").replace(
                        b"</sheetData>", rows.encode() + b"</sheetData>"
                    )
                target.writestr(item.filename, data)
        return "empty.xlsx", buffer.getvalue()
    return "bomb.docx", docx_bomb(300)


def docx_bomb(mb: int) -> bytes:
    """A real DOCX (python-docx's own) whose one paragraph holds `mb` MB of text."""
    from docx import Document

    plain = io.BytesIO()
    Document().save(plain)
    namespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = (
        f'<w:document xmlns:w="{namespace}"><w:body><w:p><w:r><w:t>'
        + "a" * (mb * 2**20)
        + "</w:t></w:r></w:p></w:body></w:document>"
    )
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, body if item.filename == "word/document.xml" else data)
    return buffer.getvalue()


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss, not inherited through exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(path: str, how: str) -> dict:
    """In this process: read the file at `path` `how` ("limits" or "alone"), after the
    imports, so that the time and the peak RSS growth are the reading's own."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings_test")
    import django

    django.setup()
    from docx import Document
    from openpyxl import load_workbook

    from helpdesk.import_limits import FileRefused, open_archive, sheet_rows

    data = Path(path).read_bytes()
    before = peak_rss_mb()
    started = time.perf_counter()
    outcome = f"read {MAX_READ:,} rows"
    try:
        if how == "limits" and path.endswith(".xlsx"):
            for _number, _row in zip(
                range(MAX_READ), sheet_rows(data, max_rows=MAX_READ), strict=False
            ):
                pass
        elif how == "limits":
            open_archive(data, kind="DOCX")
        elif path.endswith(".xlsx"):
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            for _number, _row in zip(
                range(MAX_READ), workbook.worksheets[0].iter_rows(), strict=False
            ):
                pass
        else:
            Document(io.BytesIO(data))
            outcome = "read"
    except FileRefused as exc:
        outcome = f"refused: {exc}"
    except Exception as exc:
        outcome = f"failed: {type(exc).__name__}"
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    return {"seconds": seconds, "growth_mb": peak - before, "outcome": outcome[:90]}


def main() -> None:
    if len(sys.argv) == 3:
        print(json.dumps(measure(sys.argv[1], sys.argv[2])))
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings_test")
    import django

    django.setup()
    print(f"load average: {os.getloadavg()}")
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-bombs-"))
    for label, kind in CASES.items():
        name, data = build(kind)
        path = folder / name
        path.write_bytes(data)
        tool = "python-docx" if name.endswith(".docx") else "openpyxl"
        for how in ("alone", "limits"):
            out = subprocess.run(
                [sys.executable, __file__, str(path), how],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if out.returncode != 0:
                print(f"{label:48} {how}: crashed {out.stderr.strip()[-200:]}")
                continue
            result = json.loads(out.stdout.strip().splitlines()[-1])
            who = f"{tool} alone" if how == "alone" else "with the limits"
            print(
                f"{label:48} {who:20} {result['seconds'] * 1000:8.0f} ms  "
                f"peak RSS +{result['growth_mb']:6.0f} MB  {result['outcome']}"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
