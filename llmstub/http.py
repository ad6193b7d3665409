"""Just enough HTTP/1.1 on asyncio streams for the OpenAI API's requests and responses."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from llmstub.state import REASONS, ClientGone, Json

# --- HTTP/1.1 plumbing ------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request, or None when the client closed the connection between requests.

    Raises ClientGone on a request this server cannot parse: it just drops the connection.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError as exc:
        raise ClientGone from exc
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    try:
        method, target, version = request_line.split(" ", 2)
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise ClientGone from exc
    body = await reader.readexactly(length)
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version == "HTTP/1.1" or connection == "keep-alive")
    return Request(method, target.split("?", 1)[0], headers, body, keep_alive)


def response_head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def encode_json(data: Json) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(
    status: int, data: Json, keep_alive: bool, headers: dict[str, str] | None = None
) -> bytes:
    payload = encode_json(data)
    head = {
        "content-type": "application/json",
        "content-length": str(len(payload)),
        "connection": "keep-alive" if keep_alive else "close",
        **(headers or {}),
    }
    return response_head(status, head) + payload


def sse_chunk(data: Json | str) -> bytes:
    """One SSE event framed as one HTTP chunk."""
    text = data if isinstance(data, str) else encode_json(data).decode()
    event = f"data: {text}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(event), event)


SSE_HEADERS = {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "transfer-encoding": "chunked",
}


async def wait_for_disconnect(reader: asyncio.StreamReader) -> None:
    while await reader.read(65536):
        pass
