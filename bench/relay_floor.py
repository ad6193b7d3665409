"""The floor under the chat pipeline's overhead: an ASGI app that only relays the LLM.

`bench/chat_pipeline.py` serves this with uvicorn, like the product, and measures it
with the same client and questions. Each POST's `content` goes to the LLM through the
openai SDK over aiohttp (a streamed chat completion, as `llm.client` asks for it) and every token
comes back as an SSE `delta` event, then one `done` event. There is no authentication,
database, cache, knowledge search or prompt: what this costs is the cost of uvicorn,
the SDK and the machine's process hops, which no pipeline can go below.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import openai

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

client = openai.AsyncOpenAI(
    base_url=os.environ["LLM_BASE_URL"],
    api_key=os.environ["LLM_API_KEY"],
    max_retries=0,
    http_client=openai.DefaultAioHttpClient(),
)


async def app(scope: Message, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = await _body(receive)
    if scope["path"] == "/healthz":
        await _respond(send, 200, b'{"status": "ok"}', b"application/json")
        return
    content = json.loads(body)["content"]
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    async with client.chat.completions.with_streaming_response.create(
        model=os.environ["LLM_MODEL"],
        messages=[],
        extra_body={"messages": [{"role": "user", "content": content}]},
        stream=True,
        stream_options={"include_usage": True},
    ) as response:
        async for line in response.iter_lines():
            if not line.startswith("data: {"):
                continue
            for choice in json.loads(line[6:]).get("choices") or []:
                if text := (choice.get("delta") or {}).get("content"):
                    await send(
                        {
                            "type": "http.response.body",
                            "body": _event("delta", {"text": text}),
                            "more_body": True,
                        }
                    )
    await send({"type": "http.response.body", "body": _event("done", {"text": ""})})


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type)],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()
