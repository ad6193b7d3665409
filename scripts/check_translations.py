"""Fail when a zh_Hans catalogue has an untranslated or fuzzy entry, or a stale .mo file."""

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def problems(po: Path) -> list[str]:
    found = []
    stats = subprocess.run(
        ["msgfmt", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    if "untranslated" in stats or "fuzzy" in stats:
        found.append(f"{po.relative_to(ROOT)}: {stats.strip()}")
    mo = po.with_suffix(".mo")
    with tempfile.NamedTemporaryFile(suffix=".mo") as fresh:
        subprocess.run(["msgfmt", "--check-format", "-o", fresh.name, str(po)], check=True)
        if not mo.exists() or mo.read_bytes() != Path(fresh.name).read_bytes():
            found.append(f"{mo.relative_to(ROOT)} is missing or stale: run compilemessages")
    return found


def main() -> int:
    catalogues = sorted(
        p for p in ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts
    )
    if not catalogues:
        print("no zh_Hans catalogues found")
        return 1
    errors = [error for po in catalogues for error in problems(po)]
    for error in errors:
        print(error)
    print(f"{len(catalogues)} catalogues checked, {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
