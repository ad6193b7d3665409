"""The live protocol's inbound side: every frame a client sends is parsed and validated
here before a consumer acts on it (docs/live-protocol.md).

A frame is a JSON object with a `type`; its other fields are validated by the serializer
registered for that type, so a consumer's handler only ever sees clean values. What is
wrong with a frame becomes a `FrameError` with an error code, answered with an `error`
frame while the connection goes on; flooding is refused per connection by a token
bucket, and a client that keeps flooding is disconnected.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

PROTOCOL_VERSION = 1
MAX_FRAME_CHARS = 16_384
# Close codes (4000-4999 are the application's).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_HELLO_TIMEOUT = 4408
CLOSE_FLOODING = 4429


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


class FrameError(Exception):
    def __init__(
        self, code: str, message: str, fields: dict | None = None, *, ref: Any = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.ref = ref  # the refused frame's own ref, when it could be read

    def frame(self, ref: Any = None) -> dict[str, Any]:
        return {
            "type": "error",
            "code": self.code,
            "message": self.message,
            "fields": self.fields,
            "ref": self.ref if ref is None else ref,
        }


@dataclass(frozen=True)
class Frame:
    type: str
    data: dict[str, Any]
    ref: Any = None  # the client's `ref`, echoed in the answer's error or ack


def parse(text: str | None, schemas: dict[str, type[serializers.Serializer]]) -> Frame:
    """The validated frame of a text message, or FrameError."""
    if text is None:
        raise FrameError("unsupported", _("Only text frames are accepted."))
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError(
            "too_large",
            _("The frame is too large (at most %(limit)d characters).")
            % {"limit": MAX_FRAME_CHARS},
        )
    try:
        raw = json.loads(text)
    except ValueError:
        raise FrameError("invalid_json", _("The frame is not valid JSON.")) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise FrameError("invalid", _("A frame is a JSON object with a type."))
    ref = raw.pop("ref", None)
    kind = raw.pop("type")
    schema = schemas.get(kind)
    if schema is None:
        raise FrameError(
            "unknown_type", _("Unknown frame type “%(type)s”.") % {"type": kind}, ref=ref
        )
    validated = schema(data=raw)
    if not validated.is_valid():
        raise FrameError(
            "invalid",
            _("The %(type)s frame is not valid.") % {"type": kind},
            _plain_errors(validated.errors),
            ref=ref,
        )
    return Frame(kind, dict(validated.validated_data), ref)


def _plain_errors(errors: Any) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in errors.items()}


@dataclass
class FloodGuard:
    """A token bucket per connection: `burst` frames at once, `per_second` after that.

    `admit()` is False for a frame over the rate; `flooding` once a client has gone over
    it `tolerance` times in a row of refused frames without slowing down.
    """

    burst: float = 30
    per_second: float = 5
    tolerance: int = 50
    tokens: float = field(init=False)
    refused: int = field(default=0, init=False)
    at: float = field(default_factory=time.monotonic, init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def admit(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            self.refused = 0
            return True
        self.refused += 1
        return False

    @property
    def flooding(self) -> bool:
        return self.refused >= self.tolerance


def rate_limited() -> FrameError:
    return FrameError("rate_limited", _("Too many frames. Slow down."))


class Empty(serializers.Serializer):
    pass


class Hello(serializers.Serializer):
    protocol = serializers.IntegerField()

    def validate_protocol(self, value: int) -> int:
        if value != PROTOCOL_VERSION:
            raise serializers.ValidationError(
                _("This server speaks protocol version %(version)d.")
                % {"version": PROTOCOL_VERSION}
            )
        return value
