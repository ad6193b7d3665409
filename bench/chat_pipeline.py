"""Benchmark: MessagePipeline overhead and streaming throughput, over real HTTP.

    .venv/bin/python bench/chat_pipeline.py               # load 100k entries, then measure
    .venv/bin/python bench/chat_pipeline.py --reuse       # measure the loaded database again
    .venv/bin/python bench/chat_pipeline.py --only overhead|throughput

Everything runs as separate processes, as in production: the stub LLM server
(`python -m llmstub`), one or two uvicorn servers with the production settings
(DEBUG off, PostgreSQL, Redis cache and channel layer), and this script as the
client, which speaks HTTP/1.1 on raw asyncio streams so that its own cost stays small.

Overhead: sequential conversations (several turns each, so the prompt carries
history) in a tenant with 100,000 knowledge entries. For each message, the time
from sending the request to receiving the first `delta` event, minus the stub's own
time to first token (measured first by asking the stub directly), split into the
part before the LLM call starts and the part inside the LLM client, and reported
apart for questions asked before in the run (Redis is flushed first, so those are
search-cache hits) and questions asked for the first time (a full search).

Throughput: 200 visitors stream answers (40 tokens, 25 ms apart) for a fixed
window, first against one server process, then against two sharing one PostgreSQL
and one Redis. Back to back (each visitor asks again as soon as an answer ends)
measures capacity; at a pace (`--think` seconds between messages) measures
latency under a load the servers can carry. Token delivery delay is how late each
token arrives against the stream's own cadence: arrival(i) - (arrival(0) + i * 25 ms).
The CPU each part of the setup used is read from /proc.

Servers: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14, flushed first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import knowledge_search  # noqa: E402
from benchdb import free_port, pg_url, recreate_database, setup_django  # noqa: E402

TENANT_SLUG = "bench-chat"
STUB_FIRST_TOKEN_MS = 100.0
THROUGHPUT_TOKENS = 40
HANDOFF_WORDS = ("人工", "真人")
THROUGHPUT_TOKEN_DELAY_MS = 25.0


# --- data --------------------------------------------------------------------------------


def load(database: str, entries: int) -> None:
    recreate_database(database)
    setup_django(database, migrate=True)
    from django.db import connection

    from accounts.models import Tenant

    dataset = json.loads((ROOT / "knowledge/evaluation/dataset.json").read_text("utf-8"))
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX knowledge_search_gin")
    tenant = Tenant.objects.create(name="bench chat", slug=TENANT_SLUG)
    knowledge_search.add_vocabulary(tenant, dataset)
    rows = knowledge_search.generate(dataset, entries, seed=7)
    seconds = knowledge_search.load_tenant(tenant, rows)
    print(f"loaded {entries:,} knowledge entries into {database} in {seconds:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE INDEX knowledge_search_gin ON knowledge_knowledgeentry "
            "USING gin (search_vector)"
        )
        cursor.execute("VACUUM ANALYZE knowledge_knowledgeentry")
    connection.close()


WRITTEN_TABLES = (
    "dialogue_chatsession",
    "dialogue_message",
    "llm_llmcall",
    "knowledge_knowledgeentry",
)


def vacuum(database: str) -> None:
    """VACUUM ANALYZE what the measurements write. Every answer updates its session row
    twice; with autovacuum off (as on the reference machine) the dead rows of earlier
    runs slow the next ones down, and production's autovacuum would have removed them."""
    import psycopg

    with psycopg.connect(pg_url(database), autocommit=True) as conn:
        for table in WRITTEN_TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")


def widget_key(database: str) -> str:
    import psycopg

    with psycopg.connect(pg_url(database)) as conn:
        row = conn.execute(
            "SELECT widget_key FROM accounts_tenant WHERE slug = %s", [TENANT_SLUG]
        ).fetchone()
    if row is None:
        sys.exit(f"{database} has no tenant {TENANT_SLUG}: run without --reuse first")
    return row[0]


def questions() -> list[str]:
    dataset = json.loads((ROOT / "knowledge/evaluation/dataset.json").read_text("utf-8"))
    # Hand-off requests (转人工, 真人客服) would end the conversations; this measures answers.
    return [
        q["query"]
        for q in dataset["queries"]
        if q["kind"] != "unanswerable" and not any(word in q["query"] for word in HANDOFF_WORDS)
    ]


# --- processes ---------------------------------------------------------------------------

STUB_PIDS: list[int] = []
SERVER_PIDS: list[int] = []


@contextmanager
def stub_server(first_token_ms: float, token_delay_ms: float, tokens: int):
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llmstub",
            "--port",
            str(port),
            "--latency-ms",
            str(first_token_ms),
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
        STUB_PIDS[:] = [process.pid]
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        # SIGTERM rather than SIGINT: run from a shell's background job, the stub
        # inherits SIGINT ignored.
        process.terminate()
        process.wait(timeout=10)


def server_env(database: str, redis_url: str, llm_url: str, var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": pg_url(database),
        "REDIS_URL": redis_url,
        "HELPDESK_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "LLM_BASE_URL": llm_url,
        "OUTBOUND_ALLOW_PRIVATE": "1",
        "LLM_API_KEY": "bench",
        "LLM_MODEL": "stub-llm",
        "LLM_MAX_RETRIES": "0",
        "DIALOGUE_HANDOFF_AFTER_LOW_CONFIDENCE": "0",
        "DIALOGUE_VISITOR_RATE_PER_MINUTE": "100000",
        # Every simulated visitor comes from 127.0.0.1.
        "API_THROTTLE_ANON": "100000/min",
    }


@contextmanager
def app_servers(
    count: int,
    env: dict[str, str],
    app: str = "helpdesk.asgi:application",
    cpu_budget: float | None = None,
):
    """`count` uvicorn processes serving `app`; with `cpu_budget`, each may use at most
    that many cores (a cgroup of its own), as if each ran on a machine of that size."""
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                app,
                "--app-dir",
                str(ROOT / "bench"),
                "--port",
                str(port),
                "--no-access-log",
                *os.environ.get("UVICORN_EXTRA", "").split(),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        for port in ports
    ]
    try:
        with cpu_limited([process.pid for process in processes], cpu_budget):
            for port, process in zip(ports, processes, strict=True):
                wait_ready(port, process)
            SERVER_PIDS[:] = [process.pid for process in processes]
            yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


CGROUP_V1_CPU = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")
CFS_PERIOD_US = 10_000


@contextmanager
def cpu_limited(pids: list[int], cores: float | None):
    """Each process in a cgroup of its own, with a CPU quota of `cores` (Linux, root)."""
    if cores is None:
        yield
        return
    v2 = (CGROUP_V2 / "cgroup.controllers").exists()
    parent = CGROUP_V2 if v2 else CGROUP_V1_CPU
    groups = [parent / f"helpdesk-bench-{os.getpid()}-{pid}" for pid in pids]
    quota = int(cores * CFS_PERIOD_US)
    try:
        for pid, group in zip(pids, groups, strict=True):
            group.mkdir()
            if v2:
                (group / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}")
            else:
                (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
                (group / "cpu.cfs_quota_us").write_text(str(quota))
            (group / "cgroup.procs").write_text(str(pid))
    except OSError as exc:
        sys.exit(f"--cpu-budget needs a writable cgroup CPU controller (run as root): {exc}")
    try:
        yield
    finally:
        for group in groups:
            for pid in (group / "cgroup.procs").read_text().split():
                with suppress(OSError):
                    (parent / "cgroup.procs").write_text(pid)
            with suppress(OSError):
                group.rmdir()


def wait_ready(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server on port {port} exited with {process.returncode}")
        try:
            status, _body = asyncio.run(request(port, "GET", "/healthz"))
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"server on port {port} did not become ready")


# --- a small HTTP/1.1 client -------------------------------------------------------------


def _request_bytes(method: str, path: str, body: Any, headers: dict[str, str]) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(payload)}"]
    if body is not None:
        lines.append("Content-Type: application/json")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


async def _chunks(reader: asyncio.StreamReader, headers: dict[str, str]):
    if headers.get("transfer-encoding") != "chunked":
        yield await reader.readexactly(int(headers.get("content-length", 0)))
        return
    while True:
        size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return
        data = await reader.readexactly(size + 2)
        yield data[:-2]


async def request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(_request_bytes(method, path, body, headers or {}))
        status, response_headers = await _read_head(reader)
        data = b"".join([chunk async for chunk in _chunks(reader, response_headers)])
        return status, json.loads(data) if data else None
    finally:
        writer.close()


# The stub's tokens: the first word, a quote of the question, then " word" each.
STUB_TOKEN_RE = re.compile(r"^\S+| re: “[^”]*”| [^ ]+")


@dataclass
class Stream:
    sent: float = 0.0
    arrivals: list[float] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    done: dict[str, Any] | None = None
    error: str = ""

    def token_arrivals(self) -> list[float]:
        """When each of the stub's tokens arrived: the server may send several in one event."""
        if self.done is None:
            return []
        ends = [match.end() for match in STUB_TOKEN_RE.finditer(self.done["text"])]
        arrivals, received, event = [], 0, 0
        for end in ends:
            while event < len(self.texts) and received < end:
                received += len(self.texts[event])
                event += 1
            if received < end:
                break
            arrivals.append(self.arrivals[event - 1])
        return arrivals


async def stream_message(port: int, session: int, token: str, content: str, key: str) -> Stream:
    """POST a message to the SSE endpoint; record when each `delta` event arrives."""
    result = Stream()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        body = {"content": content, "client_message_id": key}
        result.sent = time.perf_counter()
        writer.write(
            _request_bytes(
                "POST",
                f"/api/v1/chat/sessions/{session}/stream/",
                body,
                {"Authorization": f"Visitor {token}"},
            )
        )
        status, headers = await _read_head(reader)
        if status != 200:
            result.error = f"HTTP {status}"
            return result
        pending = b""
        async for chunk in _chunks(reader, headers):
            now = time.perf_counter()
            pending += chunk
            while b"\n\n" in pending:
                event, pending = pending.split(b"\n\n", 1)
                name, data = event.split(b"\n", 1)
                if name == b"event: delta":
                    result.arrivals.append(now)
                    result.texts.append(json.loads(data.removeprefix(b"data: "))["text"])
                elif name == b"event: done":
                    result.done = json.loads(data.removeprefix(b"data: "))
                else:
                    result.error = data.decode()
        return result
    finally:
        writer.close()


async def open_conversation(port: int, key: str, visitor: str) -> tuple[str, int]:
    status, body = await request(
        port, "POST", "/api/v1/chat/visitor-token/", {"widget_key": key, "visitor_id": visitor}
    )
    if status != 201:
        raise RuntimeError(f"visitor token: HTTP {status} {body}")
    token = body["data"]["token"]
    status, body = await request(
        port, "POST", "/api/v1/chat/sessions/", {}, {"Authorization": f"Visitor {token}"}
    )
    if status not in (200, 201):
        raise RuntimeError(f"open session: HTTP {status} {body}")
    return token, body["data"]["id"]


# --- measurements ------------------------------------------------------------------------


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pids_of(name: str) -> list[int]:
    found = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


class CpuMeter:
    """CPU used by each part of the benchmark, on this machine, between start and stop."""

    def __init__(self) -> None:
        self.groups = {
            "server processes": lambda: SERVER_PIDS,
            "LLM stub": lambda: STUB_PIDS,
            "PostgreSQL": lambda: pids_of("postgres"),
            "Redis": lambda: pids_of("redis-server"),
        }
        self.before = {name: self._sample(pids()) for name, pids in self.groups.items()}
        self.client_before = time.process_time()

    @staticmethod
    def _sample(pids: list[int]) -> dict[int, float]:
        return {pid: process_cpu(pid) for pid in pids}

    def report(self, elapsed: float, answers: int) -> None:
        used = {"benchmark client": time.process_time() - self.client_before}
        for name, pids in self.groups.items():
            after = self._sample(pids())
            used[name] = sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in after.items())
        parts = ", ".join(
            f"{name} {seconds / elapsed:.2f} cores ({seconds * 1000 / max(answers, 1):.1f} ms)"
            for name, seconds in used.items()
        )
        print(f"  CPU (cores busy, and per answer): {parts}")
        per_answer = sum(used.values()) / max(answers, 1)
        cores = os.cpu_count() or 1
        print(
            f"  the whole setup used {per_answer * 1000:.1f} ms of CPU per answer: "
            f"at most {cores / per_answer if per_answer else 0:.0f} answers/s on {cores} cores"
        )


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def summary(samples: list[float]) -> str:
    return (
        f"median {statistics.median(samples):6.2f} ms   p95 {percentile(samples, 0.95):6.2f} ms"
        f"   p99 {percentile(samples, 0.99):6.2f} ms   n={len(samples)}"
    )


async def stub_first_token(llm_url: str, samples: int = 60) -> list[float]:
    """The stub's own time to first token, asked directly with this client."""
    port = int(llm_url.rsplit(":", 1)[1].split("/", 1)[0])
    pool = questions()
    times = []
    for number in range(samples):
        body = {
            "model": "stub-llm",
            "stream": True,
            "messages": [{"role": "user", "content": pool[number % len(pool)]}],
        }
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            sent = time.perf_counter()
            writer.write(_request_bytes("POST", "/v1/chat/completions", body, {}))
            _status, headers = await _read_head(reader)
            async for chunk in _chunks(reader, headers):
                if b'"content":"' in chunk and b'"content":""' not in chunk:
                    times.append((time.perf_counter() - sent) * 1000)
                    break
        finally:
            writer.close()
    return times


async def measure_overhead(
    port: int, key: str, stub_own: float, conversations: int, turns: int
) -> None:
    rng = random.Random(3)
    pool = questions()
    overheads: dict[str, list[float]] = {"asked before": [], "first time": []}
    before_llm: list[float] = []
    in_client: list[float] = []
    asked: set[str] = set()
    run = f"{time.time():.0f}"
    for warm in range(3):
        token, session = await open_conversation(port, key, f"warm-{run}-{warm}")
        question = rng.choice(pool)
        asked.add(question)
        await stream_message(port, session, token, question, f"w{warm}")
    for number in range(conversations):
        token, session = await open_conversation(port, key, f"seq-{run}-{number}")
        for turn in range(turns):
            question = rng.choice(pool)
            result = await stream_message(port, session, token, question, f"m{turn}")
            if result.error or not result.arrivals:
                raise RuntimeError(f"stream failed: {result.error} {result.done}")
            first = (result.arrivals[0] - result.sent) * 1000
            overheads["asked before" if question in asked else "first time"].append(
                first - stub_own
            )
            asked.add(question)
            llm_first = result.done["usage"]["first_token_ms"]
            before_llm.append(first - llm_first)
            in_client.append(llm_first - stub_own)
    print(
        f"pipeline overhead = first delta - the stub's own time to first token, "
        f"{conversations} conversations x {turns} turns:"
    )
    print(f"  {summary(overheads['asked before'] + overheads['first time'])}")
    print(f"  of which before the LLM call   {summary(before_llm)}")
    print(f"  of which in the LLM client     {summary(in_client)}")
    for kind, samples in overheads.items():
        print(f"  question {kind + ':':14s}    {summary(samples)}")


async def measure_floor(port: int, stub_own: float, samples: int) -> list[float]:
    """First delta minus the stub's own time to first token, through `bench/relay_floor.py`,
    for the same questions one after another."""
    rng = random.Random(3)
    pool = questions()
    overheads = []
    for number in range(samples + 3):
        result = await stream_message(port, 1, "-", rng.choice(pool), f"floor-{number}")
        if result.error or not result.arrivals:
            raise RuntimeError(f"relay floor: {result.error}")
        if number >= 3:
            overheads.append((result.arrivals[0] - result.sent) * 1000 - stub_own)
    return overheads


def pipeline_alone(
    env: dict[str, str], stub_own: float, conversations: int, turns: int, store_name: str
) -> str:
    """The same overhead for the MessagePipeline called in-process with one turn store (no
    HTTP, no Django request, no DRF). Runs in a fresh process with the servers' settings."""
    os.environ.update(env)
    import django

    django.setup()
    from accounts.models import Tenant
    from dialogue import pipeline

    store = pipeline.NativeTurnStore() if store_name == "native" else pipeline.OrmTurnStore()

    async def run() -> list[float]:
        tenant = await Tenant.objects.aget(slug=TENANT_SLUG)
        rng = random.Random(4)
        pool = questions()
        samples = []
        run_id = f"{time.time():.0f}"
        for number in range(-1, conversations):
            session_id = None
            for turn in range(turns):
                incoming = pipeline.IncomingMessage(
                    tenant_id=tenant.pk,
                    channel="api",
                    external_user_id=f"alone-{store_name}-{run_id}-{number}",
                    content=rng.choice(pool),
                    channel_message_id=f"m{turn}",
                    session_id=session_id,
                )
                started = time.perf_counter()
                first = None
                prepared = await pipeline.prepare(incoming, store=store)
                async for item in pipeline.stream(prepared, store=store):
                    if isinstance(item, pipeline.Delta) and first is None:
                        first = time.perf_counter()
                session_id = prepared.session.pk
                if number >= 0:
                    samples.append((first - started) * 1000 - stub_own)
        return samples

    return summary(asyncio.run(run()))


@dataclass
class Load:
    completed: int = 0
    failed: int = 0
    delays: list[float] = field(default_factory=list)
    first_token: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def visitor_loop(
    port: int,
    conversation: tuple[str, int],
    name: str,
    pool: list[str],
    stop_at: float,
    think: float,
    load: Load,
) -> None:
    """Ask, read the streamed answer, think (0.5-1.5 x `think` seconds), ask again."""
    token, session = conversation
    rng = random.Random(name)
    number = 0
    gap = THROUGHPUT_TOKEN_DELAY_MS / 1000
    if think:
        await asyncio.sleep(rng.uniform(0, think))
    while time.perf_counter() < stop_at:
        if number and think:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
        number += 1
        try:
            result = await stream_message(port, session, token, rng.choice(pool), f"t{number}")
        except (OSError, asyncio.IncompleteReadError) as exc:
            result = Stream(error=type(exc).__name__)
        arrivals = result.token_arrivals()[:THROUGHPUT_TOKENS]
        if result.error or len(arrivals) < THROUGHPUT_TOKENS:
            load.failed += 1
            load.errors[result.error[:60] or "incomplete answer"] += 1
            continue
        load.completed += 1
        start = arrivals[0]
        load.first_token.append((start - result.sent) * 1000)
        load.delays.extend(
            max(arrival - (start + index * gap), 0.0) * 1000
            for index, arrival in enumerate(arrivals)
        )


async def open_conversations(ports: list[int], key: str, names: list[str]) -> list:
    """Visitor tokens and sessions for every visitor, before the clock starts."""
    limit = asyncio.Semaphore(10)

    async def one(number: int, name: str) -> tuple[str, int]:
        async with limit:
            return await open_conversation(ports[number % len(ports)], key, name)

    return await asyncio.gather(*(one(n, name) for n, name in enumerate(names)))


async def measure_throughput(
    ports: list[int], key: str, visitors: int, seconds: float, think: float = 0.0
) -> float:
    pool = questions()
    load = Load()
    run = f"{time.time():.0f}-{len(ports)}-{think:.0f}"
    names = [f"load-{run}-{n}" for n in range(visitors)]
    conversations = await open_conversations(ports, key, names)
    meter = CpuMeter()
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(
            visitor_loop(
                ports[n % len(ports)], conversations[n], names[n], pool, stop_at, think, load
            )
            for n in range(visitors)
        )
    )
    elapsed = time.perf_counter() - started
    rate = load.completed / elapsed
    pace = f"think {think:.0f} s between messages" if think else "back to back"
    print(
        f"{len(ports)} server process(es), {visitors} conversations ({pace}), {elapsed:.1f} s: "
        f"{load.completed} answers completed ({rate:.1f}/s), {load.failed} failed"
    )
    if load.completed:
        print(f"  token delivery delay   {summary(load.delays)}")
        print(f"  time to first token    {summary(load.first_token)}")
    if load.errors:
        print(f"  failures: {dict(load.errors)}")
    meter.report(elapsed, load.completed)
    return rate


# --- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="helpdesk_bench_chat")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="measure the loaded database")
    parser.add_argument("--only", choices=["overhead", "throughput"])
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--think",
        type=float,
        default=8.0,
        help="also run the conversations at this pace (seconds between messages; 0: skip)",
    )
    parser.add_argument(
        "--no-search-cache", action="store_true", help="search the knowledge base every time"
    )
    parser.add_argument(
        "--cpu-budget",
        type=float,
        help="throughput: give each server process at most this many cores (cgroup, root)",
    )
    args = parser.parse_args()
    if not args.reuse:
        load(args.database, args.entries)
    key = widget_key(args.database)
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], check=True, capture_output=True)
    if args.no_search_cache:
        os.environ["KNOWLEDGE_SEARCH_CACHE_SECONDS"] = "0"
    var_dir = tempfile.mkdtemp(prefix="helpdesk-bench-chat-")
    (Path(var_dir) / "static").mkdir()

    if args.only != "throughput":
        with stub_server(STUB_FIRST_TOKEN_MS, 0, 16) as llm_url:
            stub_own = statistics.median(asyncio.run(stub_first_token(llm_url)))
            print(
                f"the stub's own time to first token (asked directly, median): {stub_own:.2f} ms"
                f" (configured {STUB_FIRST_TOKEN_MS:.0f} ms)"
            )
            env = server_env(args.database, redis_url, llm_url, var_dir)
            vacuum(args.database)
            with app_servers(1, env) as ports:
                asyncio.run(
                    measure_overhead(ports[0], key, stub_own, args.conversations, args.turns)
                )
            for store_name in ("native", "orm"):
                with multiprocessing.get_context("spawn").Pool(1) as child:
                    alone = child.apply(
                        pipeline_alone,
                        (env, stub_own, args.conversations, args.turns, store_name),
                    )
                print(f"  the MessagePipeline alone, in-process, {store_name} store {alone}")
            with app_servers(1, env, app="relay_floor:app") as ports:
                floor = asyncio.run(
                    measure_floor(ports[0], stub_own, args.conversations * args.turns)
                )
            print(f"  the floor: uvicorn + openai SDK relay, no pipeline {summary(floor)}")

    if args.only != "overhead":
        with stub_server(0, THROUGHPUT_TOKEN_DELAY_MS, THROUGHPUT_TOKENS) as llm_url:
            env = server_env(args.database, redis_url, llm_url, var_dir)
            rates = []
            for count in (1, 2):
                vacuum(args.database)
                with app_servers(count, env, cpu_budget=args.cpu_budget) as ports:
                    rates.append(
                        asyncio.run(measure_throughput(ports, key, args.visitors, args.seconds))
                    )
                    if args.think:
                        asyncio.run(
                            measure_throughput(
                                ports, key, args.visitors, args.seconds, think=args.think
                            )
                        )
        print(f"throughput, two processes / one process: {rates[1] / rates[0]:.2f}x")


if __name__ == "__main__":
    main()
