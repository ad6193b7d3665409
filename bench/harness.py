"""Servers of our own for the fault drill and the soak: a PostgreSQL database behind a
TCP proxy we can cut, a Redis server we can kill, the LLM stub and uvicorn with the
production settings, each on a free port. Nothing here touches the machine's own
PostgreSQL or Redis beyond creating one database on the former.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import free_port, pg_url, recreate_database, setup_django  # noqa: E402

PASSWORD = "drill-password-2026!"
TENANT_SLUG = "drill"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pg_connections(database: str) -> int:
    import psycopg

    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [database]
        ).fetchone()
    return int(row[0])


def seed(database: str, *, workorders: int = 50) -> dict[str, str]:
    """A fresh database with one tenant, an admin and an agent, and some work orders."""
    recreate_database(database)
    setup_django(database, migrate=True)
    from accounts.models import User
    from accounts.services import tenant_create
    from helpdesk.roles import Role
    from helpdesk.tenancy import tenant_scope
    from workorders.services import workorder_create

    tenant = tenant_create(name="演练租户", slug=TENANT_SLUG)
    for username, role in (("drill-admin", Role.TENANT_ADMIN), ("drill-agent", Role.AGENT)):
        User.objects.create_user(
            username=username, password=PASSWORD, tenant=tenant, role=role, is_staff=True
        )
    with tenant_scope(tenant):
        for n in range(workorders):
            workorder_create(title=f"车机无法连接 #{n}", description="演练数据", actor=None)
    from django.db import connections

    connections.close_all()
    return {"widget_key": tenant.widget_key}


class TcpProxy:
    """127.0.0.1:<port> -> PostgreSQL, in a thread. `cut()` drops every connection and
    refuses new ones; `hang()` accepts and never answers; `restore()` forwards again."""

    def __init__(self, target_port: int = 5432) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.mode = "forward"
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._call(self._listen())

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def _pipe(self, reader, writer) -> None:
        with suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _accept(self, client_reader, client_writer) -> None:
        self._writers.add(client_writer)
        if self.mode == "hang":
            return
        try:
            server_reader, server_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            client_writer.close()
            return
        self._writers.add(server_writer)
        await asyncio.gather(
            self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer)
        )

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _cut(self) -> None:
        self._server.close()
        await self._drop_all()

    def cut(self) -> None:
        self.mode = "cut"
        self._call(self._cut())

    def hang(self) -> None:
        self.mode = "hang"
        self._call(self._drop_all())

    def restore(self) -> None:
        if self.mode == "cut":
            self._call(self._listen())
        self.mode = "forward"


class RedisServer:
    """A redis-server of our own on a free port, to kill and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None


@contextmanager
def llm_stub(*, latency_ms: float, token_delay_ms: float = 5, tokens: int = 30):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmstub",
            "--port",
            str(port),
            "--latency-ms",
            str(latency_ms),
            "--token-delay-ms",
            str(token_delay_ms),
            "--tokens",
            str(tokens),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        process.stdout.readline()
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        process.wait(timeout=10)


def server_env(database_url: str, redis_url: str, llm_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DEBUG": "0",
        "SECRET_KEY": "drill-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATIC_ROOT": str(STATIC_ROOT),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "HELPDESK_VAR_DIR": tempfile.mkdtemp(prefix="helpdesk-drill-"),
        "LOG_LEVEL": "WARNING",
        "LLM_BASE_URL": llm_url,
        "OUTBOUND_ALLOW_PRIVATE": "1",
        "LLM_API_KEY": "drill",
        "LLM_MODEL": "stub-llm",
        "LLM_MAX_RETRIES": "0",
        "TASKS_BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
        **extra,
    }


STATIC_ROOT = Path(tempfile.gettempdir()) / "helpdesk-bench-hardening-static"


def collect_static(env: dict[str, str]) -> None:
    """The admin's pages need the static files' manifest (collected once per machine)."""
    if not (STATIC_ROOT / "staticfiles.json").exists():
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )


@contextmanager
def app_server(env: dict[str, str], log_path: Path):
    collect_static(env)
    port = free_port()
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "helpdesk.asgi:application",
                "--port",
                str(port),
                "--no-access-log",
                "--no-proxy-headers",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited: see {log_path}")
                with suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                time.sleep(0.2)
            yield port, process
        finally:
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            if process.poll() is None:
                process.kill()


def login_token(base: str, username: str = "drill-admin") -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/login/", json={"username": username, "password": PASSWORD}
    )
    response.raise_for_status()
    return response.json()["data"]["token"]


# --- what the drill checks ----------------------------------------------------------


def timed(call, *args, **kwargs) -> tuple[httpx.Response | None, float, str]:
    started = time.perf_counter()
    try:
        response = call(*args, **kwargs)
        error = ""
    except httpx.HTTPError as exc:
        response, error = None, type(exc).__name__
    return response, time.perf_counter() - started, error


def describe(response: httpx.Response | None, seconds: float, error: str = "") -> str:
    if response is None:
        return f"no answer ({error}) after {seconds:.2f} s"
    code = ""
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and body.get("success") is False:
            code = f" {body['error']['code']}"
    return f"{response.status_code}{code} in {seconds:.2f} s"


class LogWatch:
    """Counts what the server wrote to its log since the last look."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def since(self) -> str:
        text = self.path.read_text(errors="replace")
        new, self.offset = text[self.offset :], len(text)
        return new

    def summary(self) -> str:
        new = self.since()
        lines = [line for line in new.splitlines() if line.strip()]
        tracebacks = new.count("Traceback (most recent call last)")
        outage = [line for line in lines if "unavailable:" in line]
        sample = f'; e.g. "{outage[0][:160]}"' if outage else ""
        return (
            f"{len(lines)} log lines, {tracebacks} tracebacks, {len(outage)} outage lines{sample}"
        )


def health(base: str) -> str:
    response, seconds, error = timed(httpx.get, f"{base}/healthz", timeout=15)
    if response is None:
        return describe(response, seconds, error)
    checks = response.json()["checks"]
    parts = [f"{name}={'ok' if check['ok'] else check['error']}" for name, check in checks.items()]
    return f"{response.status_code} in {seconds:.2f} s ({', '.join(parts)})"


def raw_request(port: int, head: str) -> str:
    """Send only a request head (a body is promised but never sent); the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode())
        return sock.recv(4096).split(b"\r\n", 1)[0].decode()
