#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install the pinned requirements.
# Re-runs only reinstall when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=${1:-requirements-dev.txt}
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    python=$(scripts/find_python.sh)
    echo "Creating .venv with $python ($("$python" --version))"
    rm -rf .venv
    "$python" -m venv .venv
fi
stamp=.venv/.requirements-$(cat requirements.txt "$requirements" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
    rm -f .venv/.requirements-*
    touch "$stamp"
fi
