"""The stub's state: apps and tokens, sent messages, cards, Bitable tables, faults."""

from __future__ import annotations

import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from feishustub.sample import MODIFIED_TIME_COLUMN, TR_COLUMNS, sample_fields

Json = dict[str, Any]
ALL_SCOPES = ("im:message", "im:message:send_as_bot", "bitable:app")
TOKEN_TTL = 7200
CHAT_LIMIT_PER_SECOND = 5
APP_LIMIT_PER_SECOND = 50


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class StubApp:
    app_id: str
    app_secret: str
    bot_open_id: str = "ou_bot"
    scopes: set[str] = field(default_factory=lambda: set(ALL_SCOPES))


@dataclass
class Table:
    records: dict[str, Json] = field(default_factory=dict)
    columns: dict[str, int] = field(default_factory=lambda: dict(TR_COLUMNS))


class StubState:
    """Everything the stub remembers; every method is safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.apps: dict[str, StubApp] = {}
            self.tokens: dict[str, tuple[str, float]] = {}
            self.token_requests = 0
            self.messages: dict[str, Json] = {}
            self.sent: list[Json] = []
            self.updates: list[Json] = []
            self.tables: dict[tuple[str, str], Table] = {}
            self.record_writes: list[Json] = []
            self.faults: deque[tuple[str, int]] = deque()
            self.rejected_for_rate = 0
            self._windows: dict[str, deque[float]] = defaultdict(deque)
            self.ws_frames: list[Any] = []
            self.token_ttl = TOKEN_TTL

    # apps and tokens ------------------------------------------------------------------

    def add_app(self, app_id: str, app_secret: str, **options: Any) -> StubApp:
        with self._lock:
            app = self.apps[app_id] = StubApp(app_id, app_secret, **options)
            return app

    def issue_token(self, app_id: str, app_secret: str) -> tuple[str, int] | None:
        with self._lock:
            self.token_requests += 1
            app = self.apps.get(app_id)
            if app is None or not secrets.compare_digest(app.app_secret, app_secret):
                return None
            token = f"t-{secrets.token_hex(12)}"
            self.tokens[token] = (app_id, time.time() + self.token_ttl)
            return token, self.token_ttl

    def app_for_token(self, token: str) -> StubApp | None:
        with self._lock:
            entry = self.tokens.get(token)
            if entry is None or entry[1] < time.time():
                return None
            return self.apps.get(entry[0])

    # faults and rate limits -----------------------------------------------------------

    def queue_faults(self, *faults: str, reset_seconds: int = 1) -> None:
        """Faults for the next API calls, one per call: "rate_limit" (HTTP 429 with code
        99991400 and the reset header), "server_error" (HTTP 500), "bad_request"."""
        with self._lock:
            self.faults.extend((fault, reset_seconds) for fault in faults)

    def next_fault(self) -> tuple[str, int] | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def over_limit(self, key: str, per_second: int) -> bool:
        """Count one call against `key`'s one-second window; True when it is over."""
        with self._lock:
            window = self._windows[key]
            now = time.monotonic()
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= per_second:
                self.rejected_for_rate += 1
                return True
            window.append(now)
            return False

    # messages -------------------------------------------------------------------------

    def send(self, *, app_id: str, chat_id: str, msg_type: str, content: str, **extra: Any) -> Json:
        with self._lock:
            message = {
                "message_id": f"om_{secrets.token_hex(12)}",
                "chat_id": chat_id,
                "msg_type": msg_type,
                "content": content,
                "app_id": app_id,
                "create_time": str(now_ms()),
                "sent_at": time.monotonic(),
                **extra,
            }
            self.messages[message["message_id"]] = message
            self.sent.append(message)
            return message

    def update(self, message_id: str, content: str) -> Json | None:
        with self._lock:
            message = self.messages.get(message_id)
            if message is None:
                return None
            message["content"] = content
            self.updates.append({"message_id": message_id, "content": content})
            return message

    # Bitable --------------------------------------------------------------------------

    def table(self, app_token: str, table_id: str) -> Table:
        with self._lock:
            return self.tables.setdefault((app_token, table_id), Table())

    def fill_table(self, app_token: str, table_id: str, count: int) -> list[str]:
        """Add `count` sample TR rows; returns their record ids."""
        table = self.table(app_token, table_id)
        stamp = now_ms()
        ids = []
        with self._lock:
            start = len(table.records)
            for index in range(start, start + count):
                record_id = f"rec{index:010d}"
                table.records[record_id] = {
                    "record_id": record_id,
                    "fields": sample_fields(index + 1, now_ms=stamp),
                    "created_time": stamp,
                    "last_modified_time": stamp,
                }
                ids.append(record_id)
        return ids

    def write_record(self, app_token: str, table_id: str, record_id: str, fields: Json) -> Json:
        """Change a record's cells (from the API or from a test acting as a person)."""
        table = self.table(app_token, table_id)
        with self._lock:
            record = table.records[record_id]
            record["fields"].update(fields)
            record["last_modified_time"] = max(now_ms(), record["last_modified_time"] + 1)
            self.record_writes.append({"record_id": record_id, "fields": fields})
            return record

    def search(self, app_token: str, table_id: str, modified_after_day: int | None) -> list[Json]:
        table = self.table(app_token, table_id)
        with self._lock:
            records = sorted(table.records.values(), key=lambda r: r["record_id"])
            if modified_after_day is not None:
                records = [
                    r for r in records if r["last_modified_time"] // 86_400_000 > modified_after_day
                ]
            return [
                dict(r, fields={**r["fields"], MODIFIED_TIME_COLUMN: r["last_modified_time"]})
                for r in records
            ]
