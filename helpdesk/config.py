"""The ConfigService: product settings with one declaration per key.

Precedence: environment variable (`SECTION_NAME`) > `system_settings.json` >
the declared default. The file is re-read when it changes on disk, so a value
set by one process is seen by the others; writes replace it atomically.
Declarations live in `helpdesk/config_keys/<section>.py`, one module per section.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings

from helpdesk.config_keys import ALL_KEYS
from helpdesk.config_schema import ConfigError, ConfigKey

logger = logging.getLogger(__name__)

SECRET_MASK = "********"


class Source(StrEnum):
    ENV = "env"
    FILE = "file"
    DEFAULT = "default"


def _collect_keys() -> dict[str, ConfigKey]:
    declared: dict[str, ConfigKey] = {}
    for item in ALL_KEYS:
        if item.key in declared:
            raise ConfigError(item.key, "declared twice")
        item.coerce(item.default)
        declared[item.key] = item
    return declared


class ConfigService:
    def __init__(self, path: Path | None = None, environ: os._Environ | dict | None = None):
        self._path = path
        self._environ = os.environ if environ is None else environ
        self._keys = _collect_keys()
        self._lock = threading.Lock()
        self._file_stamp: tuple[Path, int, int] | None = None
        self._file_values: dict[str, Any] = {}

    @property
    def path(self) -> Path:
        return self._path or Path(settings.HELPDESK_SETTINGS_FILE)

    def declaration(self, key: str) -> ConfigKey:
        try:
            return self._keys[key]
        except KeyError:
            raise ConfigError(key, "unknown configuration key") from None

    def declarations(self, section: str | None = None) -> list[ConfigKey]:
        return [k for k in self._keys.values() if section is None or k.section == section]

    def sections(self) -> list[str]:
        return sorted({k.section for k in self._keys.values()})

    def get(self, key: str, default: Any = None) -> Any:
        """The effective value; `default` only replaces a declared default of None."""
        value, _source = self.resolve(key)
        return default if value is None else value

    def source(self, key: str) -> Source:
        return self.resolve(key)[1]

    def resolve(self, key: str) -> tuple[Any, Source]:
        declaration = self.declaration(key)
        raw = self._environ.get(declaration.env_var)
        if raw is not None:
            return declaration.parse_env(raw), Source.ENV
        file_values = self._read_file()
        if key in file_values:
            return declaration.coerce(file_values[key]), Source.FILE
        return declaration.default, Source.DEFAULT

    def get_section(self, section: str) -> dict[str, Any]:
        keys = self.declarations(section)
        if not keys:
            raise ConfigError(section, "unknown configuration section")
        return {k.key.split(".", 1)[1]: self.get(k.key) for k in keys}

    def set(self, key: str, value: Any) -> None:
        self.update({key: value})

    def update(self, values: dict[str, Any]) -> None:
        """Validate every value first, then persist them all in one atomic write."""
        validated = {key: self.declaration(key).coerce(value) for key, value in values.items()}
        with self._lock:
            current = dict(self._read_file(force=True))
            current.update(validated)
            self._write_file(current)
        logger.info("Configuration changed in %s: %s", self.path.name, ", ".join(sorted(values)))

    def unset(self, key: str) -> None:
        self.declaration(key)
        with self._lock:
            current = dict(self._read_file(force=True))
            if current.pop(key, None) is not None:
                self._write_file(current)

    def describe(self) -> list[dict[str, Any]]:
        """Every key with its effective value (secrets masked) and where it came from."""
        rows = []
        for declaration in self._keys.values():
            value, source = self.resolve(declaration.key)
            if declaration.secret and value:
                value = SECRET_MASK
            rows.append(
                {
                    "key": declaration.key,
                    "section": declaration.section,
                    "value": value,
                    "source": source.value,
                    "type": declaration.type.__name__,
                    "secret": declaration.secret,
                    "env_var": declaration.env_var,
                    "description": declaration.description,
                }
            )
        return rows

    def validate_all(self) -> None:
        """Resolve every key once; raises ConfigError naming the first bad one."""
        for key in self._keys:
            self.resolve(key)
        for key in self._read_file(force=True):
            self.declaration(key)

    def _read_file(self, force: bool = False) -> dict[str, Any]:
        path = self.path
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._file_stamp, self._file_values = None, {}
            return {}
        stamp = (path, stat.st_mtime_ns, stat.st_size)
        if force or stamp != self._file_stamp:
            try:
                data = json.loads(path.read_text(encoding="utf-8") or "{}")
            except json.JSONDecodeError as exc:
                raise ConfigError(str(path), f"is not valid JSON ({exc})") from exc
            if not isinstance(data, dict):
                raise ConfigError(str(path), "must hold a JSON object of key: value")
            self._file_stamp, self._file_values = stamp, data
        return self._file_values

    def _write_file(self, values: dict[str, Any]) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".system_settings.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(values, handle, ensure_ascii=False, indent=2, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o600)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        self._file_stamp = None


_service: ConfigService | None = None
_service_lock = threading.Lock()


def get_config() -> ConfigService:
    """The process-wide ConfigService."""
    global _service
    if _service is None:
        with _service_lock:
            if _service is None:
                _service = ConfigService()
    return _service
