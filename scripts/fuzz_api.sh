#!/usr/bin/env bash
# Schemathesis over the whole OpenAPI schema as a tenant admin, an agent and a viewer
# (fuzz/test_api_schema.py): fails on any 5xx, schema violation or undocumented status.
# FUZZ_EXAMPLES (default 8) bounds the examples per operation and role; the seed is fixed.
# DATABASE_URL / REDIS_URL, when set, point it at PostgreSQL / Redis, as for scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh requirements-dev.txt
workers=${TEST_WORKERS:-$(.venv/bin/python -c 'import os; print(min(4, os.cpu_count() or 1))')}
exec .venv/bin/python -m pytest fuzz -n "$workers" -q -p no:randomly "$@"
