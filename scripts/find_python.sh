#!/usr/bin/env bash
# Print the path of a Python >= 3.12 interpreter: python3.13/python3.12 on PATH,
# then pyenv's installed versions (its shims may not work), then python3.
set -euo pipefail

is_ok() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

candidates=()
for name in python3.13 python3.12 python3; do
    if path=$(command -v "$name" 2>/dev/null); then
        candidates+=("$path")
    fi
done
if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for version_dir in $(ls -d "$root"/versions/3.1[2-9]* 2>/dev/null | sort -rV); do
        for bin in "$version_dir"/bin/python3.1[2-9]; do
            [ -x "$bin" ] && candidates+=("$bin")
        done
    done
fi
for candidate in "${candidates[@]}"; do
    if is_ok "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done
echo "No Python >= 3.12 found. Install Python 3.12 or newer (python.org, your package manager or pyenv)." >&2
exit 1
