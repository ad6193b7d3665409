"""A local Feishu (Lark) open platform on aiohttp, for tests, the demo and benchmarks.

    with FeishuStub() as stub:
        stub.state.add_app("cli_a", "secret")
        client = lark.Client.builder().domain(stub.url)...

Speaks what lark-oapi sends and expects: the tenant access token, the app's scopes,
im/v1 messages (send, reply, card update), bitable/v1 records (search with page tokens
and a modified-time filter, update), the long-connection endpoint and its WebSocket
with protobuf frames, and rate-limit answers (HTTP 429, code 99991400,
`x-ogw-ratelimit-reset`). Events are pushed to a callback URL with `post_event` or
over the long connection with `push_event`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from typing import Any, Self

import aiohttp
from aiohttp import web

from feishustub import protocol
from feishustub.frames import CONTROL, DATA, Frame
from feishustub.state import APP_LIMIT_PER_SECOND, CHAT_LIMIT_PER_SECOND, Json, StubApp, StubState

PAGE_SIZE_MAX = 500


def _answer(code: int = 0, msg: str = "success", data: Json | None = None, **extra: Any) -> Json:
    body: Json = {"code": code, "msg": msg, **extra}
    if data is not None:
        body["data"] = data
    return body


def _rate_limited(reset_seconds: int) -> web.Response:
    return web.json_response(
        _answer(99991400, "request trigger frequency limit"),
        status=429,
        headers={"x-ogw-ratelimit-limit": "5", "x-ogw-ratelimit-reset": str(reset_seconds)},
    )


class FeishuStub:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, enforce_limits: bool = True):
        self.host = host
        self.port = port
        self.enforce_limits = enforce_limits
        self.state = StubState()
        self.acks: list[Json] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._waiters: dict[str, asyncio.Future] = {}
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # lifecycle ------------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        api = "/open-apis"
        records = f"{api}/bitable/v1/apps/{{app_token}}/tables/{{table_id}}/records"
        app.router.add_post(f"{api}/auth/v3/tenant_access_token/internal", self._token)
        app.router.add_get(f"{api}/application/v6/scopes", self._scopes)
        app.router.add_post(f"{api}/im/v1/messages", self._send)
        app.router.add_post(f"{api}/im/v1/messages/{{message_id}}/reply", self._reply)
        app.router.add_patch(f"{api}/im/v1/messages/{{message_id}}", self._patch)
        app.router.add_post(f"{records}/search", self._search)
        app.router.add_put(f"{records}/{{record_id}}", self._update_record)
        app.router.add_get(f"{records}/{{record_id}}", self._get_record)
        app.router.add_post("/callback/ws/endpoint", self._ws_endpoint)
        app.router.add_get("/ws", self._ws)
        app.router.add_get("/_stub/sent", self._inspect_sent)
        return app

    async def start_async(self) -> None:
        self._runner = web.AppRunner(self.application(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop_async(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start(self) -> Self:
        ready = threading.Event()

        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            await self.start_async()
            ready.set()
            await self._stopped.wait()
            await self.stop_async()

        self._thread = threading.Thread(target=lambda: asyncio.run(run()), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("feishustub did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # pushing events -------------------------------------------------------------------

    def push_event(self, payload: Json, timeout: float = 10) -> Json:
        """Send `payload` over every open long connection; returns the first ack."""
        assert self._loop is not None, "start the stub first"
        future = asyncio.run_coroutine_threadsafe(self._push(payload), self._loop)
        return future.result(timeout)

    def connections(self) -> int:
        return len(self._sockets)

    def drop_connections(self, timeout: float = 10) -> None:
        """Close every long connection from the server's side (as a network failure would)."""
        assert self._loop is not None, "start the stub first"

        async def close_all() -> None:
            for socket in list(self._sockets):
                await socket.close()

        asyncio.run_coroutine_threadsafe(close_all(), self._loop).result(timeout)

    async def _push(self, payload: Json) -> Json:
        if not self._sockets:
            raise RuntimeError("no long connection is open")
        message_id = secrets.token_hex(8)
        frame = Frame(
            seq_id=1,
            log_id=1,
            service=1,
            method=DATA,
            headers={
                "type": "event",
                "message_id": message_id,
                "trace_id": secrets.token_hex(8),
                "sum": "1",
                "seq": "0",
            },
            payload=json.dumps(payload, ensure_ascii=False).encode(),
        )
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[message_id] = waiter
        for socket in list(self._sockets):
            await socket.send_bytes(frame.encode())
        return await waiter

    # HTTP handlers --------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        issued = self.state.issue_token(body.get("app_id", ""), body.get("app_secret", ""))
        if issued is None:
            return web.json_response(_answer(10014, "app secret invalid"))
        token, expire = issued
        return web.json_response(_answer(0, "ok", tenant_access_token=token, expire=expire))

    def _app(self, request: web.Request) -> StubApp | None:
        auth = request.headers.get("Authorization", "")
        return self.state.app_for_token(auth.removeprefix("Bearer ").strip())

    def _refusal(self, request: web.Request, *, chat: str = "") -> web.Response | StubApp:
        """The app calling, or the answer that refuses the call."""
        app = self._app(request)
        if app is None:
            return web.json_response(_answer(99991663, "Invalid access token"), status=400)
        fault = self.state.next_fault()
        if fault is not None:
            kind, reset = fault
            if kind == "rate_limit":
                return _rate_limited(reset)
            if kind == "server_error":
                return web.json_response(_answer(1500, "internal error"), status=500)
            return web.json_response(_answer(230001, "invalid request"), status=400)
        if self.enforce_limits and (
            self.state.over_limit(f"app:{app.app_id}", APP_LIMIT_PER_SECOND)
            or (chat and self.state.over_limit(f"chat:{chat}", CHAT_LIMIT_PER_SECOND))
        ):
            return _rate_limited(1)
        return app

    async def _scopes(self, request: web.Request) -> web.Response:
        app = self._refusal(request)
        if isinstance(app, web.Response):
            return app
        scopes = [{"scope_name": s, "grant_status": 1} for s in sorted(app.scopes)]
        return web.json_response(_answer(data={"scopes": scopes}))

    def _message_data(self, message: Json) -> Json:
        return {
            "message_id": message["message_id"],
            "chat_id": message["chat_id"],
            "msg_type": message["msg_type"],
            "create_time": message["create_time"],
            "body": {"content": message["content"]},
        }

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat = body.get("receive_id", "")
        app = self._refusal(request, chat=chat)
        if isinstance(app, web.Response):
            return app
        if not chat or "im:message" not in app.scopes:
            return web.json_response(_answer(230001, "invalid receive_id"), status=400)
        message = self.state.send(
            app_id=app.app_id,
            chat_id=chat,
            msg_type=body.get("msg_type", ""),
            content=body.get("content", ""),
            receive_id_type=request.query.get("receive_id_type", ""),
            uuid=body.get("uuid", ""),
        )
        return web.json_response(_answer(data=self._message_data(message)))

    async def _reply(self, request: web.Request) -> web.Response:
        parent = self.state.messages.get(request.match_info["message_id"])
        chat = parent["chat_id"] if parent else request.match_info["message_id"]
        app = self._refusal(request, chat=chat)
        if isinstance(app, web.Response):
            return app
        body = await request.json()
        message = self.state.send(
            app_id=app.app_id,
            chat_id=chat,
            msg_type=body.get("msg_type", ""),
            content=body.get("content", ""),
            reply_to=request.match_info["message_id"],
        )
        return web.json_response(_answer(data=self._message_data(message)))

    async def _patch(self, request: web.Request) -> web.Response:
        message = self.state.messages.get(request.match_info["message_id"])
        app = self._refusal(request, chat=message["chat_id"] if message else "")
        if isinstance(app, web.Response):
            return app
        body = await request.json()
        if message is None or self.state.update(message["message_id"], body["content"]) is None:
            return web.json_response(_answer(230011, "message not found"), status=400)
        return web.json_response(_answer())

    # Bitable --------------------------------------------------------------------------

    def _bitable_refusal(self, request: web.Request) -> web.Response | StubApp:
        app = self._refusal(request)
        if not isinstance(app, web.Response) and "bitable:app" not in app.scopes:
            return web.json_response(_answer(91403, "Forbidden"), status=403)
        return app

    async def _search(self, request: web.Request) -> web.Response:
        app = self._bitable_refusal(request)
        if isinstance(app, web.Response):
            return app
        body = await request.json() if request.can_read_body else {}
        after_day = None
        for condition in (body.get("filter") or {}).get("conditions") or []:
            if condition.get("operator") == "isGreater":
                after_day = int(condition["value"][1]) // 86_400_000
        match = request.match_info
        rows = self.state.search(match["app_token"], match["table_id"], after_day)
        size = min(int(request.query.get("page_size", 20)), PAGE_SIZE_MAX)
        start = int(request.query.get("page_token") or 0)
        page = rows[start : start + size]
        more = start + size < len(rows)
        if not body.get("automatic_fields"):
            page = [{"record_id": r["record_id"], "fields": r["fields"]} for r in page]
        data = {
            "items": page,
            "has_more": more,
            "page_token": str(start + size) if more else "",
            "total": len(rows),
        }
        return web.json_response(_answer(data=data))

    async def _get_record(self, request: web.Request) -> web.Response:
        app = self._bitable_refusal(request)
        if isinstance(app, web.Response):
            return app
        match = request.match_info
        table = self.state.table(match["app_token"], match["table_id"])
        record = table.records.get(match["record_id"])
        if record is None:
            return web.json_response(_answer(1254043, "RecordIdNotFound"), status=400)
        return web.json_response(_answer(data={"record": record}))

    async def _update_record(self, request: web.Request) -> web.Response:
        app = self._bitable_refusal(request)
        if isinstance(app, web.Response):
            return app
        match = request.match_info
        body = await request.json()
        table = self.state.table(match["app_token"], match["table_id"])
        if match["record_id"] not in table.records:
            return web.json_response(_answer(1254043, "RecordIdNotFound"), status=400)
        unknown = set(body.get("fields", {})) - set(table.columns)
        if unknown:
            return web.json_response(_answer(1254045, "FieldNameNotFound"), status=400)
        record = self.state.write_record(
            match["app_token"], match["table_id"], match["record_id"], body["fields"]
        )
        return web.json_response(_answer(data={"record": record}))

    async def _inspect_sent(self, request: web.Request) -> web.Response:
        """For benchmarks running the stub as a process: the messages sent so far."""
        keep = ("message_id", "chat_id", "msg_type", "reply_to", "app_id")
        sent = [{k: m.get(k, "") for k in keep} for m in list(self.state.sent)]
        return web.json_response({"sent": sent, "updates": len(self.state.updates)})

    # long connection ------------------------------------------------------------------

    async def _ws_endpoint(self, request: web.Request) -> web.Response:
        body = await request.json()
        app = self.state.apps.get(body.get("AppID", ""))
        if app is None or app.app_secret != body.get("AppSecret"):
            return web.json_response(_answer(10003, "invalid app credentials"))
        url = f"ws://{self.host}:{self.port}/ws?device_id={secrets.token_hex(6)}&service_id=1"
        config = {
            "ReconnectCount": -1,
            "ReconnectInterval": 1,
            "ReconnectNonce": 0,
            "PingInterval": 120,
        }
        return web.json_response(_answer(data={"URL": url, "ClientConfig": config}))

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.add(socket)
        try:
            async for message in socket:
                if message.type == aiohttp.WSMsgType.BINARY:
                    await self._on_frame(socket, Frame.decode(message.data))
        finally:
            self._sockets.discard(socket)
        return socket

    async def _on_frame(self, socket: web.WebSocketResponse, frame: Frame) -> None:
        if frame.method == CONTROL and frame.headers.get("type") == "ping":
            pong = Frame(service=frame.service, method=CONTROL, headers={"type": "pong"})
            await socket.send_bytes(pong.encode())
            return
        if frame.method == DATA:
            ack = json.loads(frame.payload or b"{}")
            self.acks.append(ack)
            waiter = self._waiters.pop(frame.headers.get("message_id", ""), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(ack)


async def post_event(url: str, payload: Json, *, encrypt_key: str = "") -> tuple[int, Json]:
    """POST `payload` to a callback URL the way Feishu does; (status, JSON answer)."""
    body, headers = protocol.signed_request(payload, encrypt_key=encrypt_key)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)
