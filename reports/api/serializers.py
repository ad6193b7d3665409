"""Serializers of the report API: the period query and the counters, each one by name."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from reports.counters import COUNTERS
from reports.exporting import TABLES
from reports.periods import Period, PeriodError, check_era, period_of, today_in

DEFAULT_DAYS = 7


class PeriodQuerySerializer(serializers.Serializer):
    """start/end dates (inclusive) in the tenant's time zone; default the last 7 days."""

    start = serializers.DateField(
        required=False, help_text=_("First day (YYYY-MM-DD). Default: 6 days before end.")
    )
    end = serializers.DateField(
        required=False, help_text=_("Last day, included (YYYY-MM-DD). Default: today.")
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        zone = self.context["tenant"].zone
        end = attrs.get("end") or today_in(zone)
        try:
            check_era(end)  # before counting days back from it (year 1 has none before)
            start = attrs.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
            return {"period": period_of(start=start, end=end, zone=zone)}
        except PeriodError as exc:
            raise serializers.ValidationError({"end": [str(exc)]}) from None

    @property
    def period(self) -> Period:
        return self.validated_data["period"]


class ExportQuerySerializer(PeriodQuerySerializer):
    table = serializers.ChoiceField(
        choices=list(TABLES),
        required=False,
        help_text=_("One section as CSV; without it, the whole report as an XLSX workbook."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return {**super().validate(attrs), "table": attrs.get("table")}


class CounterSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(
        allow_null=True, help_text=_("The value in the previous period of as many days.")
    )
    delta = serializers.FloatField(allow_null=True, help_text=_("value - previous"))
    relative_change = serializers.FloatField(
        allow_null=True, help_text=_("(value - previous) / previous; null when previous is 0")
    )
    unit = serializers.ChoiceField(choices=["count", "ratio", "score", "seconds", "cny"])


CountersSerializer = type(
    "ReportCountersSerializer",
    (serializers.Serializer,),
    {spec.name: CounterSerializer(help_text=str(spec.label)) for spec in COUNTERS},
)


class SummarySerializer(serializers.Serializer):
    tenant = serializers.CharField(help_text=_("The tenant's slug."))
    time_zone = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    since = serializers.DateTimeField(help_text=_("Start of the period."))
    until = serializers.DateTimeField(help_text=_("End of the period, or now if it is earlier."))
    previous_start = serializers.DateField()
    previous_end = serializers.DateField()
    previous_until = serializers.DateTimeField()
    counters = CountersSerializer()
