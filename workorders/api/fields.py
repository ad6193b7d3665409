"""Serializer fields of the work-order API: JSON objects, tenant users, choice lists, dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from accounts.models import User
from helpdesk.tenancy import current_tenant


@extend_schema_field({"type": ["object", "null"], "additionalProperties": True})
class JSONObjectOrNullField(serializers.JSONField):
    pass


@extend_schema_field({"type": "object", "additionalProperties": True})
class ExtraField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> dict:
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise ValidationError(_("Extra attributes must be a JSON object."))
        return data


class TenantUserField(serializers.PrimaryKeyRelatedField):
    """A user id of the active tenant; another tenant's id is "does not exist"."""

    queryset = User.objects.all()

    def get_queryset(self):
        return User.objects.filter(tenant=current_tenant(), is_active=True)


@extend_schema_field(OpenApiTypes.STR)
class CommaChoicesField(serializers.Field):
    """One or more choices, comma-separated (status=open,pending)."""

    def __init__(self, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        self.choice_values = [value for value, _label in choices]
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        values = [part.strip() for part in str(data).split(",") if part.strip()]
        unknown = [value for value in values if value not in self.choice_values]
        if unknown:
            raise ValidationError(
                _("Unknown value(s): %(unknown)s. Allowed: %(allowed)s.")
                % {"unknown": ", ".join(unknown), "allowed": ", ".join(self.choice_values)}
            )
        return values

    def to_representation(self, value: list[str]) -> str:
        return ",".join(value)


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeField(serializers.Field):
    """An ISO date or date-time, as an aware date-time.

    A date is the start of that day or, with `end_of_day`, the start of the next one.
    """

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> datetime:
        text = str(data).strip()
        try:
            value = parse_date(text) if len(text) == 10 else parse_datetime(text)
            if value is not None:
                value = _aware(value, end_of_day=self.end_of_day)
                # The database compares in UTC; a time that has no UTC year (0 or 10000) is bad
                # input, not a server error.
                value.astimezone(UTC)
        except (ValueError, OverflowError):
            value = None
        if value is None:
            raise ValidationError(_("Enter a date (2026-11-26) or date-time (ISO 8601)."))
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


def _aware(value: date | datetime, *, end_of_day: bool = False) -> datetime:
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end_of_day else value
        value = datetime.combine(day, time.min)
    return timezone.make_aware(value) if timezone.is_naive(value) else value
