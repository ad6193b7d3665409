import math
import sqlite3
from typing import Any

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class PercentileDisc:
    """SQLite aggregate with PostgreSQL's PERCENTILE_DISC semantics (nulls ignored)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.0

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        self.values.sort()
        return self.values[max(math.ceil(len(self.values) * self.fraction) - 1, 0)]


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite" and isinstance(connection.connection, sqlite3.Connection):
        connection.connection.create_aggregate("HELPDESK_PERCENTILE_DISC", 2, PercentileDisc)


class LlmConfig(AppConfig):
    name = "llm"
    verbose_name = _("LLM usage")

    def ready(self) -> None:
        connection_created.connect(register_sqlite_functions, dispatch_uid="llm_sqlite_functions")
