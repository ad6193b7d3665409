"""Serializer fields shared by the apps' APIs."""

from typing import Any

from rest_framework import serializers

# The largest primary key (BigAutoField). SQLite cannot even bind a larger integer, so a
# bigger id from a client must be refused as input, not reach the database.
MAX_ID = 2**63 - 1


class IdField(serializers.IntegerField):
    """The id of a row, given by a client: 1 to MAX_ID, anything else is a 400."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)
