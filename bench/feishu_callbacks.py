"""Feishu callback acknowledgement under load: 200 events/s for 60 s on PostgreSQL + Redis.

    .venv/bin/python bench/feishu_callbacks.py [--rate 200] [--seconds 60] [--workers 1]

Starts uvicorn with the production settings and the real ASGI application on a fresh
database (`helpdesk_bench_feishu_cb`) and Redis database 3 (flushed), connects one tenant's
Feishu app (encrypt key and verification token set), then posts encrypted, signed
`im.message.receive_v1` events open-loop at a fixed rate: each request leaves at its
scheduled time whatever the earlier ones are doing, and its latency is measured from that
scheduled time to the response. No task worker runs: the callback only records the event
and enqueues its answer, so what is measured is the acknowledgement Feishu waits for.
At the end the database is checked: every accepted event is recorded once, with its task.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchdb import free_port, pg_url, recreate_database, setup_django  # noqa: E402
from feishustub.protocol import message_event, signed_request  # noqa: E402

DATABASE = "helpdesk_bench_feishu_cb"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
APP_ID, SECRET, ENCRYPT_KEY, TOKEN = "cli_bench", "bench-secret", "bench-encrypt", "bench-token"
# The same key in this process (which stores the app) and in the servers (which read it).
SECRETS_KEY = base64.urlsafe_b64encode(b"helpdesk-bench-feishu-secrets-32").decode()


def prepare() -> None:
    os.environ["FEISHU_SECRETS_KEY"] = SECRETS_KEY
    recreate_database(DATABASE)
    setup_django(DATABASE, migrate=True)
    from accounts.models import Tenant
    from feishu.models import FeishuApp
    from helpdesk.tenancy import tenant_scope

    tenant = Tenant.objects.create(name="压测", slug="bench")
    with tenant_scope(tenant):
        FeishuApp.objects.create(
            name="bench",
            app_id=APP_ID,
            app_secret=SECRET,
            encrypt_key=ENCRYPT_KEY,
            verification_token=TOKEN,
            domain="http://127.0.0.1:9",
        )
    subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True)


def server_env(var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": pg_url(DATABASE),
        "REDIS_URL": REDIS_URL,
        "HELPDESK_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "FEISHU_SECRETS_KEY": SECRETS_KEY,
    }


def start_server(port: int, workers: int, var_dir: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "helpdesk.asgi:application",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    return subprocess.Popen(command, cwd=ROOT, env=server_env(var_dir))


async def wait_ready(session: aiohttp.ClientSession, port: int) -> None:
    for _ in range(300):
        try:
            async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the server did not become ready")


def requests_for(count: int) -> list[tuple[bytes, dict[str, str], str]]:
    made = []
    for n in range(count):
        payload = message_event(
            app_id=APP_ID,
            token=TOKEN,
            text=f"第{n}个问题：怎么申请退款？",
            open_id=f"ou_{n % 500}",
            message_id=f"om_bench_{n:06d}",
        )
        body, headers = signed_request(payload, encrypt_key=ENCRYPT_KEY)
        made.append((body, headers, payload["event"]["message"]["message_id"]))
    return made


async def run_load(port: int, rate: float, seconds: float) -> tuple[list[float], dict[int, int]]:
    count = int(rate * seconds)
    prepared = requests_for(count)
    # Requests are signed up front; the timestamps stay well inside the replay window.
    url = f"http://127.0.0.1:{port}/feishu/{APP_ID}/events/"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=400)
    async with aiohttp.ClientSession(connector=connector) as session:
        await wait_ready(session, port)

        async def one(at: float, body: bytes, headers: dict[str, str]) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except aiohttp.ClientError:
                status = 0
            latencies.append((time.perf_counter() - at) * 1000)
            statuses[status] = statuses.get(status, 0) + 1

        start = time.perf_counter() + 0.5
        tasks = [
            asyncio.create_task(one(start + n / rate, body, headers))
            for n, (body, headers, _id) in enumerate(prepared)
        ]
        await asyncio.gather(*tasks)
    return latencies, statuses


def check_database(expected: int) -> tuple[int, int, int]:
    from django_tasks_db.models import DBTaskResult

    from feishu.models import InboundEvent

    events = InboundEvent.all_tenants.count()
    distinct = InboundEvent.all_tenants.values("message_id").distinct().count()
    tasks = DBTaskResult.objects.filter(task_path="feishu.tasks.answer_message").count()
    return events, distinct, tasks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    prepare()
    port = free_port()
    with tempfile.TemporaryDirectory() as var_dir:
        server = start_server(port, args.workers, var_dir)
        try:
            latencies, statuses = asyncio.run(run_load(port, args.rate, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    sent = len(latencies)
    events, distinct, tasks = check_database(sent)
    one, five, fifteen = os.getloadavg()
    print(f"load average at the end: {one:.2f} {five:.2f} {fifteen:.2f}")
    print(
        f"events sent: {sent} at {args.rate:.0f}/s for {args.seconds:.0f} s, "
        f"uvicorn workers: {args.workers}"
    )
    print(f"responses by status: {dict(sorted(statuses.items()))}")
    p50, p90, p99 = (percentile(latencies, q) for q in (50, 90, 99))
    print(
        f"acknowledgement ms: p50 {p50:.1f}  p90 {p90:.1f}  p99 {p99:.1f}  "
        f"max {max(latencies):.1f}  mean {statistics.fmean(latencies):.1f}"
    )
    lost = sent - events
    print(
        f"recorded events: {events} ({distinct} distinct message ids), answer tasks "
        f"enqueued: {tasks}, lost: {lost}"
    )


if __name__ == "__main__":
    main()
