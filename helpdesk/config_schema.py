"""The declaration of a configuration key: its type, default, limits and secrecy.

Each section's keys are declared in `helpdesk/config_keys/<section>.py` with these;
the ConfigService (`helpdesk.config`) reads values against them.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """An unknown key or a value of the wrong type; the message names the key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True)
class ConfigKey:
    key: str
    type: type
    default: Any
    description: str
    secret: bool = False
    choices: tuple[Any, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def env_var(self) -> str:
        return self.key.replace(".", "_").upper()

    def coerce(self, value: Any) -> Any:
        """Validate a Python value (from the file or an API) against the declaration."""
        expected = self.type
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is int and isinstance(value, bool):
            raise ConfigError(self.key, f"expected an integer, got {value!r}")
        if not isinstance(value, expected):
            raise ConfigError(self.key, f"expected {expected.__name__}, got {value!r}")
        self._check_limits(value)
        return value

    def parse_env(self, raw: str) -> Any:
        """Parse the text of an environment variable."""
        try:
            if self.type is bool:
                lowered = raw.strip().lower()
                if lowered not in _TRUE | _FALSE:
                    raise ValueError(raw)
                value: Any = lowered in _TRUE
            elif self.type in (int, float, str):
                value = self.type(raw.strip()) if self.type is not str else raw
            else:
                value = json.loads(raw)
        except (ValueError, json.JSONDecodeError) as exc:
            raise ConfigError(
                self.key, f"environment variable {self.env_var} is not a valid {self.type.__name__}"
            ) from exc
        return self.coerce(value)

    def _check_limits(self, value: Any) -> None:
        if self.choices is not None and value not in self.choices:
            raise ConfigError(self.key, f"must be one of {list(self.choices)}, got {value!r}")
        if self.min_value is not None and value < self.min_value:
            raise ConfigError(self.key, f"must be at least {self.min_value}, got {value!r}")
        if self.max_value is not None and value > self.max_value:
            raise ConfigError(self.key, f"must be at most {self.max_value}, got {value!r}")


# Host names that always mean this machine or a cloud metadata service.
_INTERNAL_NAMES = ("localhost", "metadata.google.internal", "metadata")


def _internal_host(host: str) -> bool:
    """A loopback, private, link-local or otherwise non-public address (or name for one)."""
    host = host.lower().rstrip(".")
    if host in _INTERNAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            # The C library also reads "127.1", "2130706433" and "0x7f000001" as addresses.
            address = ipaddress.ip_address(socket.inet_aton(host))
        except OSError:
            return False
    return not address.is_global


def check_outbound_url(value: str) -> str | None:
    """Why `value` may not be used as an outbound base URL, or None when it may.

    http and https only, with a host; a private, loopback or link-local address only
    where settings.OUTBOUND_ALLOW_PRIVATE says so (local stubs in development and tests).
    A name is not resolved here: the check runs on every read of the key.
    """
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an http:// or https:// URL with a host"
    if parts.username or parts.password:
        return "must not contain credentials"
    if _internal_host(host) and not settings.OUTBOUND_ALLOW_PRIVATE:
        return (
            "points at a private, loopback or link-local address; set OUTBOUND_ALLOW_PRIVATE=1 "
            "to allow it (local development only)"
        )
    return None


class OutboundURLKey(ConfigKey):
    """A base URL the server connects to (an LLM, embeddings, Feishu); empty: none.

    The declared default passes as it is (such as the local embeddings service): it is
    chosen in the code, not configured, and unsetting the key restores it anyway.
    """

    def coerce(self, value: Any) -> Any:
        value = super().coerce(value)
        if value == self.default:
            return value
        if value and (problem := check_outbound_url(value)) is not None:
            # The value is not repeated: it may hold credentials, and the message reaches
            # `manage.py check`, logs and the config API's response.
            raise ConfigError(self.key, f"the URL {problem}")
        return value
