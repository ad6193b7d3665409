"""Serializer fields shared by the apps' APIs."""

from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _
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


class BoundedDateTimeField(serializers.DateTimeField):
    """A date-time a client sets, between 1970 and 2999.

    Outside that range a value cannot be shown in the API's time zone as RFC 3339: before
    1901 Asia/Shanghai's offset has seconds (+08:05:43), and near year 9999 the local time
    overflows.
    """

    EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
    LATEST = datetime(3000, 1, 1, tzinfo=UTC)

    def to_internal_value(self, value: Any) -> datetime:
        parsed = super().to_internal_value(value)
        if not self.EARLIEST <= parsed < self.LATEST:
            raise serializers.ValidationError(_("Give a date and time between 1970 and 2999."))
        return parsed
