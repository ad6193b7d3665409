"""Redelivery: the same Feishu message delivered 4 times, across a restart of every
process, is answered exactly once.

    .venv/bin/python bench/feishu_redelivery.py

Runs the stub Feishu (`python -m feishustub`), uvicorn with the production settings and
a task worker (`manage.py db_worker`) on a fresh database (`helpdesk_bench_feishu_rd`)
and Redis database 3. Message A: delivered, answered, delivered again; then uvicorn and
the worker are stopped, Redis database 3 is flushed (as a Redis restart without
persistence would), both are started again, and A is delivered twice more. Message B:
four deliveries at the same moment. The stub counts the replies to each message.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchdb import free_port, pg_url, recreate_database, setup_django  # noqa: E402
from feishustub.protocol import message_event, signed_request  # noqa: E402

DATABASE = "helpdesk_bench_feishu_rd"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
APP_ID, SECRET, ENCRYPT_KEY, TOKEN = "cli_redeliver", "rd-secret", "rd-encrypt", "rd-token"
SECRETS_KEY = base64.urlsafe_b64encode(b"helpdesk-bench-feishu-secrets-32").decode()


def env(var_dir: str) -> dict[str, str]:
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


def prepare(stub_url: str) -> None:
    os.environ["FEISHU_SECRETS_KEY"] = SECRETS_KEY
    recreate_database(DATABASE)
    setup_django(DATABASE, migrate=True)
    from accounts.models import Tenant
    from feishu.models import FeishuApp
    from helpdesk.tenancy import tenant_scope

    tenant = Tenant.objects.create(name="重投", slug="redeliver")
    with tenant_scope(tenant):
        FeishuApp.objects.create(
            name="bench",
            app_id=APP_ID,
            app_secret=SECRET,
            encrypt_key=ENCRYPT_KEY,
            verification_token=TOKEN,
            domain=stub_url,
        )
    subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True, capture_output=True)


@contextmanager
def our_processes(port: int, var_dir: str):
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "helpdesk.asgi:application",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env(var_dir),
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--queue-name", "*", "--interval", "0.2"],
        cwd=ROOT,
        env=env(var_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            process.wait(timeout=30)


def deliver(port: int, payload: dict) -> int:
    body, headers = signed_request(payload, encrypt_key=ENCRYPT_KEY)
    url = f"http://127.0.0.1:{port}/feishu/{APP_ID}/events/"
    return requests.post(url, data=body, headers=headers, timeout=10).status_code


def replies(stub_url: str, message_id: str) -> int:
    sent = requests.get(f"{stub_url}/_stub/sent", timeout=5).json()["sent"]
    return sum(1 for message in sent if message["reply_to"] == message_id)


def wait_for_reply(stub_url: str, message_id: str, timeout: float = 60) -> float:
    started = time.monotonic()
    while replies(stub_url, message_id) == 0:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"no reply to {message_id} within {timeout:.0f} s")
        time.sleep(0.1)
    return time.monotonic() - started


def main() -> None:
    stub_port, port = free_port(), free_port()
    stub_url = f"http://127.0.0.1:{stub_port}"
    stub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "feishustub",
            "--port",
            str(stub_port),
            "--app",
            f"{APP_ID}:{SECRET}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    stub.stdout.readline()
    prepare(stub_url)
    message_a = message_event(app_id=APP_ID, token=TOKEN, text="怎么申请退款？", open_id="ou_a")
    message_b = message_event(app_id=APP_ID, token=TOKEN, text="蓝牙钥匙连不上", open_id="ou_b")
    id_a = message_a["event"]["message"]["message_id"]
    id_b = message_b["event"]["message"]["message_id"]
    try:
        with tempfile.TemporaryDirectory() as var_dir:
            with our_processes(port, var_dir):
                statuses = [deliver(port, message_a)]
                print(f"A delivery 1 answered in {wait_for_reply(stub_url, id_a):.2f} s")
                statuses.append(deliver(port, message_a))
                threads = [
                    threading.Thread(target=lambda: statuses.append(deliver(port, message_b)))
                    for _ in range(4)
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                wait_for_reply(stub_url, id_b)
            print("uvicorn and the worker stopped; Redis database flushed; starting again")
            subprocess.run(["redis-cli", "-u", REDIS_URL, "flushdb"], check=True)
            with our_processes(port, var_dir):
                statuses += [deliver(port, message_a), deliver(port, message_a)]
                time.sleep(5)  # time for the worker to (wrongly) answer again
        from feishu.models import InboundEvent

        deliveries = dict(InboundEvent.all_tenants.values_list("message_id", "deliveries"))
        print(f"callback statuses: {statuses}")
        print(
            f"message A: deliveries recorded {deliveries[id_a]}, replies {replies(stub_url, id_a)}"
        )
        print(
            f"message B: deliveries recorded {deliveries[id_b]}, replies {replies(stub_url, id_b)}"
        )
        one, five, fifteen = os.getloadavg()
        print(f"load average at the end: {one:.2f} {five:.2f} {fifteen:.2f}")
    finally:
        stub.terminate()
        stub.wait(timeout=10)


if __name__ == "__main__":
    main()
