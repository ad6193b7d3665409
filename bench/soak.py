"""Soak: mixed traffic for a bounded time against a server of our own on PostgreSQL and
Redis, sampling memory and connections every 10 s.

    .venv/bin/python bench/soak.py [--minutes 30] [--database helpdesk_bench_hardening_soak]

Traffic, paced so that a shared machine stays usable: API reads (work orders, knowledge,
alerts), API writes (a work order and a comment), imports (an XLSX of work orders and a
CSV of Q&A every 30 s) and web-chat visitors sending messages over the streaming
endpoint (the fast path) and the JSON one, answered by the LLM stub. Samples: the
server's RSS and open files, PostgreSQL connections to the database, Redis clients.
At the end: the trend of each (least-squares slope per hour), the errors by kind, and
lost messages (accepted by the API but missing from the database).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    RedisServer,
    app_server,
    llm_stub,
    login_token,
    pg_connections,
    pg_url,
    rss_mb,
    seed,
    server_env,
)

SAMPLE_SECONDS = 10
QUESTIONS = [
    "车机连不上网怎么办？",
    "如何申请退款",
    "OTA 升级失败",
    "发票怎么开",
    "转人工以外的问题",
]


class Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.errors: Counter[str] = Counter()
        self.messages_accepted: list[str] = []

    def record(self, label: str, response: httpx.Response | None, error: str = "") -> bool:
        self.requests += 1
        if response is None:
            self.errors[f"{label}: {error}"] += 1
            return False
        if response.status_code >= 400:
            self.errors[f"{label}: HTTP {response.status_code}"] += 1
            return False
        return True


async def call(client: httpx.AsyncClient, tally: Tally, label: str, method: str, url: str, **kw):
    try:
        response = await client.request(method, url, **kw)
    except httpx.HTTPError as exc:
        tally.record(label, None, type(exc).__name__)
        return None
    return response if tally.record(label, response) else None


async def reader(client, base, auth, tally, stop) -> None:
    paths = ["/api/v1/workorders/?page_size=20", "/api/v1/knowledge/", "/api/v1/alerts/"]
    n = 0
    while time.monotonic() < stop:
        await call(client, tally, "read", "GET", base + paths[n % len(paths)], headers=auth)
        n += 1
        await asyncio.sleep(0.5)


async def writer(client, base, auth, tally, stop) -> None:
    n = 0
    while time.monotonic() < stop:
        created = await call(
            client,
            tally,
            "write",
            "POST",
            f"{base}/api/v1/workorders/",
            json={"title": f"浸泡测试工单 {n}", "description": "soak"},
            headers=auth,
        )
        if created is not None:
            order = created.json()["data"]["id"]
            await call(
                client,
                tally,
                "write",
                "POST",
                f"{base}/api/v1/workorders/{order}/comments/",
                json={"body": "已联系客户", "internal": True},
                headers=auth,
            )
        n += 1
        await asyncio.sleep(2)


def xlsx_rows(n: int) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["标题", "描述", "优先级"])
    for row in range(10):
        sheet.append([f"导入工单 {n}-{row}", "soak import", "中"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def importer(client, base, auth, tally, stop) -> None:
    n = 0
    while time.monotonic() < stop:
        await call(
            client,
            tally,
            "import",
            "POST",
            f"{base}/api/v1/workorders/import/",
            files={"file": (f"soak{n}.xlsx", xlsx_rows(n))},
            headers=auth,
        )
        qa = f"问题,答案\n浸泡问题 {n},浸泡答案 {n}\n".encode()
        await call(
            client,
            tally,
            "import",
            "POST",
            f"{base}/api/v1/knowledge/import/",
            files={"file": (f"soak{n}.csv", qa)},
            headers=auth,
        )
        n += 1
        await asyncio.sleep(30)


async def visitor(client, base, widget_key, number, tally, stop) -> None:
    response = await call(
        client,
        tally,
        "chat",
        "POST",
        f"{base}/api/v1/chat/visitor-token/",
        json={"widget_key": widget_key, "visitor_id": f"soak-visitor-{number}"},
    )
    if response is None:
        return
    headers = {"Authorization": f"Visitor {response.json()['data']['token']}"}
    session = await call(
        client, tally, "chat", "POST", f"{base}/api/v1/chat/sessions/", json={}, headers=headers
    )
    if session is None:
        return
    session_id = session.json()["data"]["id"]
    n = 0
    while time.monotonic() < stop:
        key = f"soak-{number}-{n}"
        body = {"content": QUESTIONS[n % len(QUESTIONS)], "client_message_id": key}
        if n % 5 == 4:
            url = f"{base}/api/v1/chat/sessions/{session_id}/messages/"
            response = await call(
                client, tally, "chat-json", "POST", url, json=body, headers=headers
            )
        else:
            url = f"{base}/api/v1/chat/sessions/{session_id}/stream/"
            response = await call(
                client,
                tally,
                "chat-stream",
                "POST",
                url,
                json=body,
                headers={**headers, "Accept": "text/event-stream"},
            )
            if response is not None and "event: done" not in response.text:
                tally.errors["chat-stream: no done event"] += 1
                response = None
        if response is not None:
            tally.messages_accepted.append(key)
        n += 1
        await asyncio.sleep(3)


def redis_clients(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).info("clients")["connected_clients"])


def slope_per_hour(samples: list[tuple[float, float]]) -> float:
    if len(samples) < 3:
        return 0.0
    times = [t for t, _v in samples]
    values = [v for _t, v in samples]
    return statistics.linear_regression(times, values).slope * 3600


async def sampler(pid, database, redis_url, tally, stop, rows) -> None:
    started = time.monotonic()
    while time.monotonic() < stop:
        row = {
            "t_s": round(time.monotonic() - started),
            "rss_mb": round(rss_mb(pid), 1),
            "open_files": len(os.listdir(f"/proc/{pid}/fd")),
            "pg_connections": pg_connections(database),
            "redis_clients": redis_clients(redis_url),
            "requests": tally.requests,
            "errors": sum(tally.errors.values()),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        await asyncio.sleep(SAMPLE_SECONDS)


def stored_messages(database: str, keys: list[str]) -> set[str]:
    import psycopg

    with psycopg.connect(pg_url(database)) as conn:
        found = conn.execute(
            "SELECT channel_message_id FROM dialogue_message WHERE role = 'user' "
            "AND channel_message_id = ANY(%s)",
            [keys],
        ).fetchall()
    return {key for (key,) in found}


async def traffic(base, pid, database, redis_url, widget_key, seconds, rows) -> Tally:
    tally = Tally()
    stop = time.monotonic() + seconds
    auth = {"Authorization": f"Token {login_token(base, 'drill-agent')}"}
    limits = httpx.Limits(max_connections=32)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        await asyncio.gather(
            sampler(pid, database, redis_url, tally, stop, rows),
            *(reader(client, base, auth, tally, stop) for _ in range(4)),
            writer(client, base, auth, tally, stop),
            importer(client, base, auth, tally, stop),
            *(visitor(client, base, widget_key, n, tally, stop) for n in range(4)),
        )
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--database", default="helpdesk_bench_hardening_soak")
    parser.add_argument("--samples", default="/tmp/helpdesk-soak-samples.csv")
    args = parser.parse_args()

    print(f"# Soak, {args.minutes:g} minutes ({time.strftime('%Y-%m-%d %H:%M %Z')})", flush=True)
    print(f"load average at the start: {os.getloadavg()}", flush=True)
    widget_key = seed(args.database)["widget_key"]
    redis = RedisServer()
    redis.start()
    rows: list[dict] = []
    try:
        with llm_stub(latency_ms=200, token_delay_ms=10, tokens=30) as llm_url:
            env = server_env(
                pg_url(args.database),
                redis.url,
                llm_url,
                DIALOGUE_VISITOR_RATE_PER_MINUTE="1000",
                API_THROTTLE_USER="100000/min",
            )
            with app_server(env, Path("/tmp/helpdesk-soak-server.log")) as (port, process):
                tally = asyncio.run(
                    traffic(
                        f"http://127.0.0.1:{port}",
                        process.pid,
                        args.database,
                        redis.url,
                        widget_key,
                        args.minutes * 60,
                        rows,
                    )
                )
    finally:
        redis.kill()
    with open(args.samples, "w", newline="") as handle:
        writer_ = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer_.writeheader()
        writer_.writerows(rows)
    lost = set(tally.messages_accepted) - stored_messages(args.database, tally.messages_accepted)
    print(f"load average at the end: {os.getloadavg()}")
    print(f"requests: {tally.requests}, errors: {sum(tally.errors.values())} {dict(tally.errors)}")
    print(f"chat messages accepted: {len(tally.messages_accepted)}, lost: {len(lost)}")
    warm = [row for row in rows if row["t_s"] >= 120] or rows
    for name in ("rss_mb", "open_files", "pg_connections", "redis_clients"):
        values = [row[name] for row in warm]
        trend = slope_per_hour([(row["t_s"], row[name]) for row in warm])
        print(
            f"{name}: first {values[0]}, last {values[-1]}, min {min(values)}, "
            f"max {max(values)}, trend after the first 2 minutes {trend:+.1f}/hour"
        )
    print(f"samples: {args.samples}")


if __name__ == "__main__":
    main()
