"""Database connection handling that Django does not do on its own."""

import functools
from collections.abc import Callable

from django.db import connections
from django.db.models import Model


def release_pooled_connections() -> None:
    """Give this thread's pooled connections back before a long wait, e.g. a stream.

    Django returns a pooled connection when the response ends, so a streamed answer
    would hold one for the whole stream and a few hundred streams would drain the
    pool. Inside a transaction (an atomic block, or a test's) nothing is released.
    """
    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None and not connection.in_atomic_block:
            connection.close()


def releasing_connections[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    """`func`, then its thread's pooled connections given back: for sync work called
    from async code outside Django's request cycle, where nothing else returns them."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        finally:
            release_pooled_connections()

    return wrapper


def select_columns(model: type[Model], alias: str, prefix: str = "") -> str:
    """The model's columns, quoted, for a hand-written SELECT from `alias`; with `prefix`,
    renamed so that they do not clash with another model's."""
    quote = connections["default"].ops.quote_name
    return ", ".join(
        f"{alias}.{quote(f.column)}" + (f" AS {quote(prefix + f.column)}" if prefix else "")
        for f in model._meta.concrete_fields
    )
