"""Helpers of the front-end tests: the ES modules' unit tests under `node --test`; the
real ASGI application (HTTP, static files and WebSockets) on uvicorn in a thread, which a
test may stop and start again; and Debian's Chromium driven by the Python playwright
package."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections
from django.test import Client

from helpdesk.testing import free_port

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("HELPDESK_SCREENSHOTS", "var/screenshots"))


def assert_node_tests_pass(directory: Path) -> None:
    """Run the `*.test.mjs` files in `directory` with `node --test`; all must pass."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the front-end unit tests"
    result = subprocess.run(
        [node, "--test", str(directory)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout


class AsgiServer:
    """helpdesk.asgi.application on a free port, static files served from the finders
    (the test settings collect none)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        # lazy: importing the ASGI module builds the application (as test_fast_stream does)
        from helpdesk.asgi import application

        config = uvicorn.Config(
            ASGIStaticFilesHandler(application),
            port=self.port,
            log_level="warning",
            lifespan="on",
            ws_ping_interval=None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the test server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop as a deployment restarts a process: open WebSockets are closed."""
        self.server.should_exit = True
        self.thread.join(timeout=15)
        for connection in connections.all(initialized_only=True):
            if hasattr(connection, "close_pool"):
                connection.close_pool()


def launch(playwright):
    assert Path(CHROMIUM).exists(), f"Chromium is needed at {CHROMIUM} (apt-get install chromium)"
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def wait_until(page, predicate: str, timeout: float = 30) -> Any:
    """Poll a JavaScript function until it returns something truthy, and return that.

    Not page.wait_for_function: it re-evaluates its predicate with eval() from inside the
    page, which our Content-Security-Policy (no 'unsafe-eval') refuses from the second
    try on; page.evaluate goes through the DevTools protocol instead."""
    deadline = time.monotonic() + timeout
    while not (result := page.evaluate(predicate)):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {predicate}"
        page.wait_for_timeout(50)
    return result


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def off_the_loop[R](func: Callable[..., R], *args, **kwargs) -> R:
    """Database work from a test that drives the browser: playwright's sync API keeps an
    event loop running in the test's thread, where Django refuses database calls."""

    def run() -> R:
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value
