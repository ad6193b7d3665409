"""The desks' queue lines kept current, in batches.

Every message of a conversation a person has changes its line in the queue of every
desk of the tenant (the last message, the count). Sent one by one, a team of N agents
answering r messages a second would make N × N × r desk frames a second. Instead, each
process gathers the lines that changed for `INTERVAL` seconds and sends each tenant's
desk group one `live.activity` event, one line per conversation. A conversation's own
messages are not delayed: they go to its group at once (`dialogue.live.events`).

A batch belongs to the event loop it was gathered on. A server's loop runs as long as
the process; the loop asgiref makes for sync code that has none (a task worker, a
management command) ends right after its publish, and ending a loop cancels the wait,
not the send, so the batch goes out then.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from typing import Any

from dialogue.live import frames
from dialogue.live.groups import apublish, desk_group
from dialogue.models import Message

INTERVAL = 0.25

Lines = dict[int, dict[int, dict[str, Any]]]  # tenant id → session id → line

_batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Lines]
_batches = weakref.WeakKeyDictionary()
_sending: set[asyncio.Task[None]] = set()


def add(tenant_id: int, message: Message) -> None:
    """Count `message` in its conversation's line; the line is sent with the batch."""
    loop = asyncio.get_running_loop()
    batch = _batches.get(loop)
    if batch is None:
        batch = _batches[loop] = {}
        task = loop.create_task(_send_later(loop))
        _sending.add(task)
        task.add_done_callback(_sending.discard)
    lines = batch.setdefault(tenant_id, {})
    line = lines.setdefault(
        message.session_id, {"session": message.session_id, "messages": [], "last_message": None}
    )
    line["messages"].append(message.pk)
    if line["last_message"] is None or message.pk > line["last_message"]["id"]:
        line["last_message"] = frames.message_preview(message)


async def _send_later(loop: asyncio.AbstractEventLoop) -> None:
    try:
        await asyncio.sleep(INTERVAL)
    finally:
        batch = _batches.pop(loop, {})
        for tenant_id, lines in batch.items():
            event = {"type": "live.activity", "id": uuid.uuid4().hex, "lines": list(lines.values())}
            await apublish([desk_group(tenant_id)], event)
