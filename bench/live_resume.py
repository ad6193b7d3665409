"""Benchmark: a reconnect storm on the customer's WebSocket, /ws/chat/.

    .venv/bin/python bench/live_resume.py [--clients 1000] [--window 5]

`--clients` visitors each have a conversation (a question and its answer) and a chat page
connected to /ws/chat/ on a server process (production settings, PostgreSQL, Redis). The
process goes away (the pages drop); while it is away every conversation gets a message
from the support team. A new process starts and every page reconnects at a random moment
within `--window` seconds, as the pages' jittered back-off spreads them, and resumes with
`hello {session, after: the last message id it has}` (docs/live-protocol.md).

Checked for every page: it resumes; `welcome` carries the message it missed, once; merged
by id with what it had, it shows every customer-visible message of its conversation in
the database, none twice. Measured: time from opening the socket to `welcome` (p50, p99,
max), and how long the storm took. The clients speak through the `websockets` package.

Servers: BENCH_PG_URL (database helpdesk_bench_livefront_resume), BENCH_REDIS_URL
(default redis://127.0.0.1:6379/15, flushed first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import recreate_database, setup_django  # noqa: E402
from chat_pipeline import app_servers, server_env  # noqa: E402

DATABASE = "helpdesk_bench_livefront_resume"
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


@dataclass
class Page:
    visitor: str
    token: str
    session: int
    had: set[int] = field(default_factory=set)
    got: list[int] = field(default_factory=list)
    welcome_ms: float | None = None
    error: str = ""


def prepare(clients: int) -> list[Page]:
    """A tenant and `clients` conversations of two messages each; a token per visitor."""
    recreate_database(DATABASE)
    os.environ["SECRET_KEY"] = SECRET_KEY  # the server's, so its tokens verify there
    setup_django(DATABASE, migrate=True)
    from accounts.models import Tenant
    from dialogue.authentication import issue_visitor_token
    from dialogue.models import Channel, ChatSession, Message, Role
    from helpdesk.tenancy import tenant_scope

    tenant = Tenant.objects.create(name="Bench", slug="bench-live")
    visitors = [f"v-bench-{number}" for number in range(clients)]
    with tenant_scope(tenant):
        sessions = ChatSession.objects.bulk_create(
            ChatSession(channel=Channel.WEB, external_user_id=visitor, message_count=2)
            for visitor in visitors
        )
        Message.objects.bulk_create(
            message
            for session in sessions
            for message in (
                Message(session=session, role=Role.USER, content="退款多久到账"),
                Message(session=session, role=Role.ASSISTANT, content="1-3 个工作日到账。"),
            )
        )
    return [
        Page(visitor, issue_visitor_token(tenant=tenant, visitor_id=visitor), session.pk)
        for visitor, session in zip(visitors, sessions, strict=True)
    ]


def team_writes(pages: list[Page]) -> dict[int, int]:
    """While the pages are away: one message from the team in every conversation."""
    from accounts.models import Tenant
    from dialogue.models import ChatSession, Message, Role
    from helpdesk.tenancy import tenant_scope

    with tenant_scope(Tenant.objects.get(slug="bench-live")):
        sessions = ChatSession.objects.filter(pk__in=[page.session for page in pages])
        written = Message.objects.bulk_create(
            Message(session=session, role=Role.AGENT, content="您好，我是客服小王。")
            for session in sessions
        )
    return {message.session_id: message.pk for message in written}


def stored_messages() -> dict[int, set[int]]:
    from accounts.models import Tenant
    from dialogue.models import CUSTOMER_ROLES, Message
    from helpdesk.tenancy import tenant_scope

    found: dict[int, set[int]] = {}
    with tenant_scope(Tenant.objects.get(slug="bench-live")):
        rows = Message.objects.filter(role__in=CUSTOMER_ROLES).values_list("session_id", "pk")
        for session_id, message_id in rows:
            found.setdefault(session_id, set()).add(message_id)
    return found


async def hello(port: int, page: Page, after: int | None, hold: asyncio.Event | None):
    """Open a socket, say hello, wait for `welcome`; keep the socket until `hold` is set
    (or the server goes), else close it."""
    from websockets.asyncio.client import connect

    started = time.perf_counter()
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws/chat/", open_timeout=60) as socket:
            frame = {"type": "hello", "protocol": 1, "token": page.token}
            frame |= {"session": page.session, "after": after}
            await socket.send(json.dumps(frame))
            while True:
                answer = json.loads(await asyncio.wait_for(socket.recv(), 60))
                if answer["type"] == "welcome":
                    break
            page.welcome_ms = (time.perf_counter() - started) * 1000
            ids = [message["id"] for message in answer["messages"]]
            if after is None:
                page.had = set(ids)
            else:
                page.got = ids
            if hold is not None:
                await hold.wait()
    except Exception as exc:  # a page that fails is counted and named, not fatal
        page.error = f"{type(exc).__name__}: {exc}"


async def connect_all(port: int, pages: list[Page], hold: asyncio.Event) -> list[asyncio.Task]:
    tasks = []
    for page in pages:  # a few at a time, as pages open over a minute
        tasks.append(asyncio.create_task(hello(port, page, None, hold)))
        await asyncio.sleep(0.002)
    while any(page.welcome_ms is None and not page.error for page in pages):
        await asyncio.sleep(0.05)
    return tasks


async def storm(port: int, pages: list[Page], window: float) -> float:
    started = time.perf_counter()

    async def later(page: Page) -> None:
        await asyncio.sleep(random.uniform(0, window))
        page.welcome_ms = None
        await hello(port, page, max(page.had), None)

    await asyncio.gather(*(later(page) for page in pages))
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--window", type=float, default=5.0, help="seconds the pages come back in")
    options = parser.parse_args()
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis.Redis.from_url(redis_url).flushdb()
    # A socket per page here and in the server (which inherits the limit).
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")

    pages = prepare(options.clients)
    with tempfile.TemporaryDirectory() as var_dir:
        env = server_env(DATABASE, redis_url, "", var_dir)
        env["SECRET_KEY"] = SECRET_KEY

        # One event loop for the clients, run while the servers are up (app_servers
        # waits for a server with a loop of its own).
        loop = asyncio.new_event_loop()
        hold = asyncio.Event()
        with app_servers(1, env) as [port]:
            tasks = loop.run_until_complete(connect_all(port, pages, hold))
            connected = sum(page.welcome_ms is not None for page in pages)
            print(f"{connected} of {len(pages)} pages connected; the process stops")
        # The process has gone: the pages' sockets were closed under them.
        loop.call_soon(hold.set)
        loop.run_until_complete(asyncio.gather(*tasks))
        missed = team_writes(pages)
        for page in pages:
            page.error = ""
        with app_servers(1, env) as [port]:
            took = loop.run_until_complete(storm(port, pages, options.window))
        loop.close()

    stored = stored_messages()
    failed = [page for page in pages if page.error or page.welcome_ms is None]
    lost = duplicated = without_missed = 0
    for page in pages:
        lost += len(stored[page.session] - (page.had | set(page.got)))
        duplicated += len(page.got) - len(set(page.got))
        without_missed += page.got.count(missed[page.session]) != 1
    times = [page.welcome_ms for page in pages if page.welcome_ms is not None]
    print(f"{len(pages)} pages reconnected within {options.window:.0f} s; storm took {took:.1f} s")
    print(f"  resumed: {len(pages) - len(failed)}, failed: {len(failed)}")
    if failed:
        print(f"  first failure: {failed[0].error}")
    print(
        f"  lost: {lost}, duplicated in welcome: {duplicated}, missed message not once: "
        f"{without_missed}"
    )
    if times:
        print(
            f"  open to welcome: p50 {statistics.median(times):.0f} ms, "
            f"p99 {percentile(times, 0.99):.0f} ms, max {max(times):.0f} ms"
        )
    overlap = statistics.mean(len(page.got) for page in pages if page.got)
    print(f"  messages per welcome: {overlap:.1f} (the missed one and the resume overlap)")
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
