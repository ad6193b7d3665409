"""Fault drill: replays each failure of issue 16 against a running server and prints
what happened (statuses, how long, what /healthz and the log said, server memory).

    .venv/bin/python scripts/fault_drill.py [--database helpdesk_bench_hardening_drill]

Everything runs on servers of its own (see bench/harness.py): a fresh database on the
local PostgreSQL reached through a TCP proxy the drill cuts, a redis-server it kills
and restarts, the LLM stub with a slow first token, and one uvicorn process with the
production settings and a small pool (4 connections, 3 s timeout) so that exhaustion
shows quickly. Scenarios: bodies, file bombs, Redis killed, PostgreSQL cut and hung,
pool exhaustion by slow chats, then login and throttle limits (last: they lock the
drill's own address).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from harness import (
    PASSWORD,
    LogWatch,
    RedisServer,
    TcpProxy,
    app_server,
    describe,
    health,
    llm_stub,
    login_token,
    pg_url,
    raw_request,
    rss_mb,
    seed,
    server_env,
    timed,
)

POOL_TIMEOUT = 3.0


def say(text: str = "") -> None:
    print(text, flush=True)


def bodies(base: str, port: int, token: str) -> None:
    say("## Bodies")
    auth = {"Authorization": f"Token {token}"}
    fields = "&".join(f"f{n}=x" for n in range(1001))
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    browser = httpx.Client()
    browser.get(f"{base}/admin/login/")
    page_form = {
        **form,
        "X-CSRFToken": browser.cookies.get("csrftoken", ""),
        "Referer": f"{base}/admin/login/",
    }
    for label, call in [
        (
            "1,001 form fields, anonymous, API login",
            lambda: httpx.post(f"{base}/api/v1/auth/login/", content=fields, headers=form),
        ),
        (
            "1,001 form fields, admin login page (with its CSRF cookie)",
            lambda: browser.post(f"{base}/admin/login/", content=fields, headers=page_form),
        ),
        (
            "11 MB JSON body",
            lambda: httpx.post(
                f"{base}/api/v1/workorders/",
                content=b'{"title": "' + b"x" * 11_000_000 + b'"}',
                headers={**auth, "Content-Type": "application/json"},
                timeout=30,
            ),
        ),
        (
            "malformed multipart",
            lambda: httpx.post(
                f"{base}/api/v1/workorders/import/",
                content=b"--x\r\nbroken",
                headers={**auth, "Content-Type": "multipart/form-data; boundary=x"},
            ),
        ),
    ]:
        say(f"- {label}: {describe(*timed(call))}")
    status = raw_request(
        port,
        "POST /api/v1/workorders/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
        "\r\nContent-Length: 200000000\r\n\r\n",
    )
    say(f"- Content-Length of 200 MB declared, nothing sent: {status}")


def xlsx_bomb(cell_mb: int) -> bytes:
    from helpdesk.testing import crafted_xlsx

    return crafted_xlsx(cell_text="a" * (cell_mb * 2**20))


def docx_bomb(mb: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("word/document.xml", "a" * (mb * 2**20))
    return buffer.getvalue()


def bombs(base: str, token: str, pid: int) -> None:
    from helpdesk.testing import crafted_xlsx

    say("## File bombs")
    auth = {"Authorization": f"Token {token}"}
    huge_cell = xlsx_bomb(300)
    rows = crafted_xlsx(dimension="A1:A3000000")
    docx = docx_bomb(300)
    say(f"- server RSS before: {rss_mb(pid):.0f} MB")

    async def four_at_once() -> list[str]:
        async with httpx.AsyncClient(timeout=60) as client:

            async def one(n: int) -> str:
                started = time.perf_counter()
                response = await client.post(
                    f"{base}/api/v1/workorders/import/",
                    files={"file": (f"bomb{n}.xlsx", huge_cell)},
                    headers=auth,
                )
                return describe(response, time.perf_counter() - started)

            return await asyncio.gather(*(one(n) for n in range(4)))

    say(
        f"- XLSX of {len(huge_cell) // 1024} KB holding one 300 MB cell, 4 at once: "
        + "; ".join(asyncio.run(four_at_once()))
    )
    say(f"- server RSS after: {rss_mb(pid):.0f} MB")
    for label, path, name, data in [
        ("XLSX declaring 3,000,000 rows", "workorders/import/", "rows.xlsx", rows),
        ("the same to the knowledge import", "knowledge/import/", "rows.xlsx", rows),
        ("DOCX of 300 MB unpacked, knowledge import", "knowledge/import/", "bomb.docx", docx),
    ]:
        response, seconds, error = timed(
            httpx.post,
            f"{base}/api/v1/{path}",
            files={"file": (name, data)},
            headers=auth,
            timeout=60,
        )
        say(f"- {label} ({len(data) // 1024} KB): {describe(response, seconds, error)}")
    say(f"- server RSS at the end: {rss_mb(pid):.0f} MB")


def redis_outage(base: str, token: str, redis: RedisServer, log: LogWatch) -> None:
    say("## Redis killed")
    auth = {"Authorization": f"Token {token}"}
    log.since()
    redis.kill()
    say("- redis-server killed (SIGKILL)")
    say(f"- /healthz: {health(base)}")
    statuses = Counter()
    for _ in range(20):
        response, seconds, error = timed(httpx.get, f"{base}/api/v1/workorders/", headers=auth)
        statuses[describe(response, 0, error).split(" in ")[0]] += 1
    say(f"- 20 x GET /api/v1/workorders/ (token): {dict(statuses)}")
    response, seconds, error = timed(
        httpx.post,
        f"{base}/api/v1/auth/login/",
        json={"username": "drill-agent", "password": PASSWORD},
    )
    say(f"- API login: {describe(response, seconds, error)}")
    client = httpx.Client()
    client.get(f"{base}/admin/login/")
    response, seconds, error = timed(
        client.post,
        f"{base}/admin/login/",
        data={
            "username": "drill-agent",
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
            "next": "/admin/",
        },
        headers={"Referer": f"{base}/admin/login/"},
    )
    page, _s, _e = timed(client.get, f"{base}/admin/workorders/workorder/")
    say(
        f"- admin login (session in PostgreSQL): {describe(response, seconds, error)}, "
        f"then the work-order list: {describe(page, _s, _e)}"
    )
    say(f"- server log: {log.summary()}")
    started = time.perf_counter()
    redis.start()
    while httpx.get(f"{base}/healthz").status_code != 200:
        time.sleep(0.2)
    say(
        f"- redis-server started again: /healthz 200 after {time.perf_counter() - started:.1f} s, "
        "no restart of the application"
    )


def postgres_outage(base: str, token: str, proxy: TcpProxy, log: LogWatch) -> None:
    say("## PostgreSQL unreachable (the proxy refuses connections and drops open ones)")
    auth = {"Authorization": f"Token {token}"}
    log.since()
    proxy.cut()
    say(f"- /healthz: {health(base)}")
    results = [
        describe(*timed(httpx.get, f"{base}/api/v1/workorders/", headers=auth, timeout=30))
        for _ in range(5)
    ]
    say(f"- 5 x GET /api/v1/workorders/: {'; '.join(results)}")
    say(f"- GET /admin/ (a page): {describe(*timed(httpx.get, f'{base}/admin/', timeout=30))}")
    say(f"- server log: {log.summary()}")
    proxy.restore()
    started = time.perf_counter()
    while httpx.get(f"{base}/api/v1/workorders/", headers=auth, timeout=30).status_code != 200:
        time.sleep(0.2)
    say(
        f"- proxy forwarding again: GET /api/v1/workorders/ 200 after "
        f"{time.perf_counter() - started:.1f} s, no restart"
    )

    say("## PostgreSQL hanging (the proxy accepts and never answers)")
    log.since()
    proxy.hang()
    say(f"- /healthz: {health(base)}")
    results = [
        describe(*timed(httpx.get, f"{base}/api/v1/workorders/", headers=auth, timeout=30))
        for _ in range(3)
    ]
    say(f"- 3 x GET /api/v1/workorders/: {'; '.join(results)}")
    say(f"- server log: {log.summary()}")
    proxy.restore()
    started = time.perf_counter()
    while httpx.get(f"{base}/api/v1/workorders/", headers=auth, timeout=30).status_code != 200:
        time.sleep(0.2)
    say(f"- forwarding again: 200 after {time.perf_counter() - started:.1f} s")


def pool_exhaustion(base: str, token: str, widget_key: str, log: LogWatch) -> None:
    say("## Pool exhaustion: 12 slow chats (first token after 3 s) on a pool of 4")
    auth = {"Authorization": f"Token {token}"}
    log.since()

    async def run() -> tuple[list[str], str]:
        async with httpx.AsyncClient(timeout=60) as client:

            async def conversation(n: int) -> str:
                visitor = (
                    await client.post(
                        f"{base}/api/v1/chat/visitor-token/",
                        json={"widget_key": widget_key, "visitor_id": f"drill-visitor-{n}"},
                    )
                ).json()["data"]["token"]
                headers = {"Authorization": f"Visitor {visitor}"}
                session = (
                    await client.post(f"{base}/api/v1/chat/sessions/", json={}, headers=headers)
                ).json()["data"]["id"]
                started = time.perf_counter()
                response = await client.post(
                    f"{base}/api/v1/chat/sessions/{session}/messages/",
                    json={"content": "车机连不上网怎么办？", "client_message_id": f"m{n}"},
                    headers=headers,
                )
                return describe(response, time.perf_counter() - started)

            async def unrelated() -> str:
                await asyncio.sleep(1.0)
                started = time.perf_counter()
                response = await client.get(f"{base}/api/v1/workorders/", headers=auth)
                return describe(response, time.perf_counter() - started)

            chats = asyncio.gather(*(conversation(n) for n in range(12)))
            other = asyncio.create_task(unrelated())
            return await chats, await other

    chats, other = asyncio.run(run())
    say(f"- JSON chat answers: {dict(Counter(c.split(' in ')[0] for c in chats))}")
    say(f"- an unrelated GET /api/v1/workorders/ during them: {other}")
    say(f"- server log: {log.summary()}")


def limits(base: str) -> None:
    say("## Login and request limits (X-Forwarded-For rotated on every request)")
    statuses = Counter()
    for n in range(25):
        response = httpx.post(
            f"{base}/api/v1/auth/login/",
            json={"username": "drill-admin", "password": "wrong"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
        statuses[response.status_code] += 1
    say(f"- 25 wrong passwords for drill-admin: {dict(statuses)}")
    right = httpx.post(
        f"{base}/api/v1/auth/login/", json={"username": "drill-admin", "password": PASSWORD}
    )
    say(f"- then the right password on the API: {describe(right, 0).split(' in ')[0]}")
    for path in ("/admin/login/", "/api-auth/login/"):
        client = httpx.Client()
        client.get(f"{base}{path}")
        response = client.post(
            f"{base}{path}",
            data={
                "username": "drill-admin",
                "password": PASSWORD,
                "next": "/admin/",
                "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
            },
            headers={"Referer": f"{base}{path}"},
        )
        locked = re.search(r"(登录失败次数过多[^<]*|Too many failed[^<]*)", response.text)
        say(
            f"- the right password on {path}: {response.status_code}, "
            f"{'logged in' if 'sessionid' in client.cookies else 'not logged in'}"
            f"{f' ({locked.group(1).strip()})' if locked else ''}"
        )
    statuses = Counter()
    for n in range(150):
        response = httpx.post(
            f"{base}/api/v1/chat/visitor-token/",
            json={"widget_key": "no-such-key", "visitor_id": f"v{n}"},
            headers={"X-Forwarded-For": f"198.51.100.{n % 250}"},
        )
        statuses[response.status_code] += 1
    say(
        f"- 150 anonymous requests to a public endpoint (anonymous limit 120/min): {dict(statuses)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="helpdesk_bench_hardening_drill")
    args = parser.parse_args()

    say(f"# Fault drill ({time.strftime('%Y-%m-%d %H:%M %Z')})")
    widget_key = seed(args.database)["widget_key"]
    proxy = TcpProxy()
    redis = RedisServer()
    redis.start()
    log_path = Path(f"/tmp/fault-drill-{args.database}.log")
    try:
        with llm_stub(latency_ms=3000) as llm_url:
            env = server_env(
                pg_url(args.database).replace(":5432/", f":{proxy.port}/"),
                redis.url,
                llm_url,
                DATABASE_POOL_MIN_SIZE="1",
                DATABASE_POOL_MAX_SIZE="4",
                DATABASE_POOL_TIMEOUT=str(POOL_TIMEOUT),
                CHAT_NATIVE_STORE="0",
            )
            with app_server(env, log_path) as (port, process):
                base = f"http://127.0.0.1:{port}"
                token = login_token(base)
                log = LogWatch(log_path)
                say(
                    f"server: uvicorn pid {process.pid}, pool 4 connections, "
                    f"pool timeout {POOL_TIMEOUT:.0f} s; log in {log_path}"
                )
                say()
                bodies(base, port, token)
                bombs(base, token, process.pid)
                redis_outage(base, token, redis, log)
                postgres_outage(base, token, proxy, log)
                pool_exhaustion(base, token, widget_key, log)
                limits(base)
                say()
                say(f"server RSS at the end: {rss_mb(process.pid):.0f} MB")
    finally:
        redis.kill()


if __name__ == "__main__":
    main()
