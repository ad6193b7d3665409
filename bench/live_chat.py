"""Benchmark: the live chat (WebSockets) under load, over real connections.

    .venv/bin/python bench/live_chat.py                      # all three parts
    .venv/bin/python bench/live_chat.py --only idle|delivery|reconnect

Everything runs as separate processes, as in production: the stub LLM server, uvicorn
servers with the production settings (PostgreSQL, the Redis cache and channel layer),
and this script as the client (the `websockets` package).

idle:      one server process holds `--idle` customer connections that said hello and
           wait, then `--streaming` more customers ask at once; memory per idle
           connection (the server's RSS before and after), whether every stream
           completes, and token delivery delay: arrival(i) - (arrival(0) + i * gap).
delivery:  customers connected to one server process, staff desks on another; the desks
           send replies at `--rate` per second for `--seconds`; the time from a reply
           leaving a desk to its arrival on the customer's page (through the database,
           Redis and the other process).
reconnect: `--reconnecting` customers drop their connections, staff write to each of
           them meanwhile, and all reconnect within 5 s with the last message id they
           had: how many resumed, and how many messages were lost or came twice.

Servers: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14, flushed first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from benchdb import recreate_database  # noqa: E402
from chat_pipeline import (  # noqa: E402
    SERVER_PIDS,
    Stream,
    app_servers,
    server_env,
    stub_server,
    summary,
)

DATABASE = "helpdesk_bench_live"
TENANT_SLUG = "bench-live"
TOKENS = 40
TOKEN_DELAY_MS = 25.0
DESK_REPLIES_PER_SECOND = 4


# --- data (in a child process with the servers' settings) ------------------------------


def prepare(env: dict[str, str], customers: int, handed_off: int) -> dict[str, Any]:
    """Migrate, then a tenant with knowledge, an agent with a login session, and visitor
    tokens; the first `handed_off` customers' conversations are handed off and claimed."""
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    from accounts.models import Tenant, User
    from dialogue import services
    from dialogue.authentication import issue_visitor_token
    from dialogue.models import ChatSession
    from helpdesk.roles import Role
    from helpdesk.tenancy import tenant_scope
    from knowledge.services import entry_create

    call_command("migrate", verbosity=0)
    tenant = Tenant.objects.create(name="bench live", slug=TENANT_SLUG)
    agent = User.objects.create_user(
        username="bench-agent", password="x", tenant=tenant, role=Role.AGENT, is_staff=True
    )
    session = SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    session.create()
    visitors = [f"v{number}" for number in range(customers)]
    sessions: list[int | None] = [None] * customers
    with tenant_scope(tenant):
        entry_create(question="如何申请退款？", answer="在订单详情页申请退款。", verified=True)
        for number in range(handed_off):
            chat = services.session_open(channel="web", external_user_id=visitors[number])[0]
            chat = services.session_handoff(session=chat, reason="request")
            ChatSession.objects.filter(pk=chat.pk).update(assignee=agent)
            sessions[number] = chat.pk
    return {
        "cookie": f"sessionid={session.session_key}",
        "tokens": [issue_visitor_token(tenant=tenant, visitor_id=v) for v in visitors],
        "sessions": sessions,
    }


# --- clients ----------------------------------------------------------------------------


@dataclass
class Page:
    """A customer's page: its connection, and every message it received, by id."""

    url: str
    token: str
    session: int | None = None
    socket: Any = None
    received: dict[int, int] = field(default_factory=dict)  # message id -> times seen
    arrivals: dict[str, float] = field(default_factory=dict)  # reply content -> when

    async def connect(self, after: int | None = None) -> dict[str, Any]:
        self.socket = await websockets.connect(self.url, origin="http://127.0.0.1", max_size=None)
        hello = {"type": "hello", "protocol": 1, "token": self.token}
        if self.session:
            hello["session"] = self.session
        if after:
            hello["after"] = after
        await self.socket.send(json.dumps(hello))
        welcome = json.loads(await self.socket.recv())
        assert welcome["type"] == "welcome", welcome
        for message in welcome["messages"]:
            self.take(message)
        if welcome["session"]:
            self.session = welcome["session"]["id"]
        return welcome

    def take(self, message: dict[str, Any]) -> None:
        self.received[message["id"]] = self.received.get(message["id"], 0) + 1
        self.arrivals.setdefault(message["content"], time.perf_counter())

    async def listen(self) -> None:
        """Keep what arrives until the connection closes."""
        try:
            async for text in self.socket:
                frame = json.loads(text)
                if frame["type"] == "message":
                    self.take(frame["message"])
        except websockets.ConnectionClosed:
            pass

    async def ask(self, content: str) -> Stream:
        result = Stream(sent=time.perf_counter())
        await self.socket.send(json.dumps({"type": "send", "content": content}))
        async for text in self.socket:
            frame = json.loads(text)
            if frame["type"] == "answer.delta":
                result.arrivals.append(time.perf_counter())
                result.texts.append(frame["text"])
            elif frame["type"] == "answer.done":
                result.done = {"text": frame["message"]["content"]}
                return result
            elif frame["type"] == "error":
                result.error = frame["code"]
                return result
        result.error = "closed"
        return result


async def open_pages(url: str, tokens: list[str], sessions: list[int | None]) -> list[Page]:
    pages = [Page(url, token, session) for token, session in zip(tokens, sessions, strict=True)]
    limit = asyncio.Semaphore(100)

    async def one(page: Page) -> None:
        async with limit:
            await page.connect()

    await asyncio.gather(*(one(page) for page in pages))
    return pages


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def token_lateness(result: Stream) -> list[float]:
    arrivals = result.token_arrivals()
    if not arrivals:
        return []
    gap = TOKEN_DELAY_MS / 1000
    start = arrivals[0]
    return [max(a - (start + i * gap), 0.0) * 1000 for i, a in enumerate(arrivals)]


# --- the three measurements --------------------------------------------------------------


async def measure_idle(port: int, pid: int, data: dict[str, Any], idle: int, streaming: int):
    url = f"ws://127.0.0.1:{port}/ws/chat/"
    before = rss_kib(pid)
    pages = await open_pages(url, data["tokens"][:idle], [None] * idle)
    await asyncio.sleep(2)
    held = rss_kib(pid)
    print(
        f"idle: {idle} customer connections held; server RSS {before / 1024:.0f} MiB -> "
        f"{held / 1024:.0f} MiB, {(held - before) / idle:.1f} KiB per idle connection"
    )
    askers = await open_pages(url, data["tokens"][idle : idle + streaming], [None] * streaming)
    results = await asyncio.gather(*(page.ask("如何申请退款") for page in askers))
    complete = [r for r in results if not r.error and len(r.token_arrivals()) >= TOKENS]
    lateness = [late for r in complete for late in token_lateness(r)[:TOKENS]]
    print(
        f"  {streaming} streams at once beside them: {len(complete)} complete, "
        f"{streaming - len(complete)} failed ({sorted({r.error for r in results if r.error})})"
    )
    if lateness:
        print(f"  token delivery delay   {summary(lateness)}")
    first = [(r.arrivals[0] - r.sent) * 1000 for r in complete]
    if first:
        print(f"  time to first token    {summary(first)}")
    await asyncio.gather(*(page.socket.close() for page in pages + askers))


async def desk_socket(port: int, cookie: str):
    socket = await websockets.connect(
        f"ws://127.0.0.1:{port}/ws/desk/",
        origin="http://127.0.0.1",
        additional_headers={"Cookie": cookie},
        max_size=None,
    )
    await socket.send(json.dumps({"type": "hello", "protocol": 1}))
    while json.loads(await socket.recv())["type"] != "welcome":
        pass
    return socket


async def drain(socket) -> None:
    try:
        async for _text in socket:
            pass
    except websockets.ConnectionClosed:
        pass


async def measure_delivery(ports: list[int], data: dict[str, Any], rate: float, seconds: float):
    customers = [s for s in data["sessions"] if s]
    url = f"ws://127.0.0.1:{ports[1]}/ws/chat/"
    pages = await open_pages(url, data["tokens"][: len(customers)], customers)
    listeners = [asyncio.create_task(page.listen()) for page in pages]
    # As many desks as the rate needs, each within a connection's frame rate (5/s): a
    # team of agents, not one desk flooding.
    count = max(4, math.ceil(rate / DESK_REPLIES_PER_SECOND))
    desks = [await desk_socket(ports[0], data["cookie"]) for _ in range(count)]
    drains = [asyncio.create_task(drain(socket)) for socket in desks]
    sent: dict[str, float] = {}
    total = int(rate * seconds)
    started = time.perf_counter()
    for number in range(total):
        await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
        page = pages[number % len(pages)]
        content = f"reply {number}"
        sent[content] = time.perf_counter()
        await desks[number % len(desks)].send(
            json.dumps({"type": "reply", "session": page.session, "content": content})
        )
    elapsed = time.perf_counter() - started
    await asyncio.sleep(3)
    arrived = {c: t for page in pages for c, t in page.arrivals.items() if c in sent}
    latencies = [(arrived[c] - sent[c]) * 1000 for c in arrived]
    print(
        f"delivery: {total} staff replies from {count} desks on one server process to customers on "
        f"another, {rate:.0f}/s offered ({total / elapsed:.0f}/s sent over {elapsed:.1f} s): "
        f"{len(arrived)} arrived, {total - len(arrived)} missing"
    )
    if latencies:
        print(f"  reply to page          {summary(latencies)}")
    for socket in desks + [page.socket for page in pages]:
        await socket.close()
    await asyncio.gather(*listeners, *drains)


async def measure_reconnect(ports: list[int], data: dict[str, Any], count: int):
    customers = [s for s in data["sessions"] if s][:count]
    urls = [f"ws://127.0.0.1:{ports[n % len(ports)]}/ws/chat/" for n in range(count)]
    pages = [
        Page(url, token, session)
        for url, token, session in zip(urls, data["tokens"][:count], customers, strict=True)
    ]
    await asyncio.gather(*(page.connect() for page in pages))
    desks = [await desk_socket(ports[0], data["cookie"]) for _ in range(4)]
    drains = [asyncio.create_task(drain(socket)) for socket in desks]
    before = {page.session: max(page.received, default=0) for page in pages}
    await asyncio.gather(*(page.socket.close() for page in pages))
    for number, page in enumerate(pages):
        # Four desks at 4 replies a second each stay within a desk's frame rate.
        await asyncio.sleep(1 / 16)
        reply = {"type": "reply", "session": page.session, "content": f"m{number}"}
        await desks[number % len(desks)].send(json.dumps(reply))
    rng = random.Random(3)
    started = time.perf_counter()

    async def back(page: Page) -> None:
        await asyncio.sleep(rng.uniform(0, 5))
        page.url = urls[(urls.index(page.url) + 1) % len(urls)]  # another process
        await page.connect(after=before[page.session])

    await asyncio.sleep(1)
    await asyncio.gather(*(back(page) for page in pages))
    elapsed = time.perf_counter() - started
    wanted = {f"m{number}" for number in range(count)}
    got = {content for page in pages for content in page.arrivals if content in wanted}
    again = sum(times - 1 for page in pages for times in page.received.values())
    print(
        f"reconnect: {count} customers dropped, written to while away, back within "
        f"{elapsed:.1f} s on the other server process: {len(got)} of {count} messages "
        f"resumed, {len(wanted - got)} lost; {again} messages resent in the resume "
        "overlap (pages keep messages by id: none shown twice)"
    )
    await asyncio.gather(*(page.socket.close() for page in pages))
    for socket in desks:
        await socket.close()
    await asyncio.gather(*drains)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["idle", "delivery", "reconnect"])
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--streaming", type=int, default=200)
    parser.add_argument("--customers", type=int, default=1000, help="for delivery/reconnect")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    recreate_database(DATABASE)
    var_dir = tempfile.mkdtemp(prefix="helpdesk-bench-live-")
    with stub_server(50, TOKEN_DELAY_MS, TOKENS) as llm_url:
        env = server_env(DATABASE, redis_url, llm_url, var_dir)
        env["ALLOWED_HOSTS"] = "127.0.0.1"
        customers = max(args.idle + args.streaming, args.customers)
        with multiprocessing.get_context("spawn").Pool(1) as child:
            data = child.apply(prepare, (env, customers, args.customers))
        print(f"prepared {customers} visitors, {args.customers} conversations with an agent")
        if args.only in (None, "idle"):
            with app_servers(1, env) as ports:
                asyncio.run(measure_idle(ports[0], SERVER_PIDS[0], data, args.idle, args.streaming))
        if args.only in (None, "delivery", "reconnect"):
            with app_servers(2, env) as ports:
                if args.only in (None, "delivery"):
                    asyncio.run(measure_delivery(ports, data, args.rate, args.seconds))
                if args.only in (None, "reconnect"):
                    asyncio.run(measure_reconnect(ports, data, args.customers))


if __name__ == "__main__":
    main()
