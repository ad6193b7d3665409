"""Native async PostgreSQL for the hot paths that must not wait for a worker thread.

Django's ORM runs async callers in worker threads: a hop per query, and threads that
compete with the event loop for the GIL while answers stream. The chat's native turn
store (`dialogue.pipeline.native_store`) and its LLM call recorder
(`llm.recording.NativeCallRecorder`) use this instead: one psycopg async pool per event
loop, built from Django's own connection settings, with statements prepared on first
use. Rows are turned into model instances, and model instances into rows, by the
models' own fields, so a new field needs no change here.

PostgreSQL only, and outside any transaction of Django's (this pool cannot see one):
the code that uses it is chosen explicitly by its entry point.
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from typing import Any

from django.db import connections
from django.db.models import Model
from psycopg_pool import AsyncConnectionPool

# Per event loop, the task that opens its pool: callers that arrive while it opens
# await the same task (an asyncio.Lock would bind itself to the first loop that waits).
_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[AsyncConnectionPool]] = (
    weakref.WeakKeyDictionary()
)


@functools.cache
def available() -> bool:
    """PostgreSQL is the database (fixed for the life of the process)."""
    return connections["default"].vendor == "postgresql"


async def pool() -> AsyncConnectionPool:
    loop = asyncio.get_running_loop()
    opening = _pools.get(loop)
    if opening is None or _failed(opening):
        opening = _pools[loop] = loop.create_task(_opened_pool())
    return await asyncio.shield(opening)


def _failed(task: asyncio.Task) -> bool:
    return task.done() and (task.cancelled() or task.exception() is not None)


async def _opened_pool() -> AsyncConnectionPool:
    new = _new_pool()
    await new.open()
    return new


def _new_pool() -> AsyncConnectionPool:
    connection = connections["default"]
    kwargs = connection.get_connection_params()
    kwargs.pop("cursor_factory", None)
    kwargs.update(autocommit=True, options="-c TimeZone=UTC", prepare_threshold=1)
    options = connection.settings_dict["OPTIONS"].get("pool")
    sizes = options if isinstance(options, dict) else {}
    return AsyncConnectionPool(
        kwargs=kwargs,
        min_size=1,
        max_size=sizes.get("max_size", 20),
        timeout=sizes.get("timeout", 10.0),
        open=False,
    )


async def close_pool() -> None:
    """Close this event loop's pool (at server shutdown)."""
    opening = _pools.pop(asyncio.get_running_loop(), None)
    if opening is not None and opening.done() and not _failed(opening):
        await opening.result().close()


def quoted(name: str) -> str:
    return connections["default"].ops.quote_name(name)


def insert_row(instance: Model) -> tuple[tuple[str, ...], list[Any]]:
    """The columns and database values `save()` would insert for a new instance."""
    connection = connections["default"]
    columns, values = [], []
    for field in instance._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        values.append(field.get_db_prep_save(field.pre_save(instance, add=True), connection))
    return tuple(columns), values


def insert_sql(model: type[Model], columns: tuple[str, ...]) -> str:
    names = ", ".join(quoted(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    table = quoted(model._meta.db_table)
    return f"INSERT INTO {table} ({names}) VALUES ({placeholders}) RETURNING id"


def saved(instance: Model, pk: int) -> None:
    """Mark an instance inserted here as saved, as `save()` would."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = "default"


async def insert(instance: Model) -> None:
    """Insert a new instance (its tenant must already be set) and give it its pk."""
    columns, values = insert_row(instance)
    async with (await pool()).connection() as conn:
        cursor = await conn.execute(insert_sql(type(instance), columns), values)
        row = await cursor.fetchone()
    saved(instance, row[0])


def instance[M: Model](model: type[M], values: tuple | list) -> M:
    """A model instance from a row of its concrete columns, converted as the ORM would."""
    connection = connections["default"]
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        column = field.get_col(model._meta.db_table)
        for convert in [
            *connection.ops.get_db_converters(column),
            *field.get_db_converters(connection),
        ]:
            value = convert(value, column, connection)
        converted.append(value)
    return model.from_db("default", [field.attname for field in fields], converted)
