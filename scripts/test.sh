#!/usr/bin/env bash
# The second README command: the whole test suite.
# DATABASE_URL / REDIS_URL, when set, point the suite at PostgreSQL / Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh requirements-dev.txt
workers=${TEST_WORKERS:-$(.venv/bin/python -c 'import os; print(min(4, os.cpu_count() or 1))')}
exec .venv/bin/python -m pytest -n "$workers" "$@"
