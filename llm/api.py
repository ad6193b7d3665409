"""GET /api/v1/llm/usage/: calls, tokens and cost of the tenant's LLM calls."""

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.views import TenantAPIView
from llm.selectors import GROUPS, usage_summary

DEFAULT_DAYS = 30
MAX_DAYS = 366


@extend_schema_field(OpenApiTypes.STR)
class DayOrMomentField(serializers.Field):
    """A date (YYYY-MM-DD, a whole local day) or an ISO 8601 date-time."""

    default_error_messages = {
        "invalid": gettext_lazy("Enter a date (YYYY-MM-DD) or an ISO 8601 date-time."),
    }

    def to_internal_value(self, data: Any) -> date | datetime:
        text = str(data).strip()
        try:
            moment = parse_datetime(text) if "T" in text or " " in text else parse_date(text)
        except ValueError:
            moment = None
        if moment is None:
            self.fail("invalid")
        return moment

    def to_representation(self, value: Any) -> str:
        return value.isoformat()


def _start(value: date | datetime, *, next_day: bool) -> datetime:
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    day = value + timedelta(days=1) if next_day else value
    return timezone.make_aware(datetime.combine(day, time.min))


class LLMUsageQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=GROUPS, default="day")
    since = DayOrMomentField(
        required=False, help_text=gettext_lazy("Start (inclusive). Default: 30 days ago.")
    )
    until = DayOrMomentField(
        required=False,
        help_text=gettext_lazy("End: a date counts as the whole day. Default: now."),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        now = timezone.now()
        until = _start(attrs["until"], next_day=True) if "until" in attrs else now
        if "since" in attrs:
            since = _start(attrs["since"], next_day=False)
        else:
            today = timezone.localtime(until).date()
            since = _start(today - timedelta(days=DEFAULT_DAYS - 1), next_day=False)
        if since >= until:
            raise serializers.ValidationError({"since": _("since must be before until.")})
        if until - since > timedelta(days=MAX_DAYS):
            raise serializers.ValidationError(
                {"since": _("The window may span at most %(days)d days.") % {"days": MAX_DAYS}}
            )
        return {"group_by": attrs["group_by"], "since": since, "until": until}


class LLMUsageRowSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    error_rate = serializers.FloatField(
        allow_null=True, help_text=gettext_lazy("errors / (calls - cancelled)")
    )
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=14, decimal_places=6, help_text=gettext_lazy("CNY"))
    latency_p95_ms = serializers.IntegerField(allow_null=True)
    first_token_p95_ms = serializers.IntegerField(allow_null=True)


class LLMUsageGroupSerializer(LLMUsageRowSerializer):
    key = serializers.CharField(help_text=gettext_lazy("The day (YYYY-MM-DD), model or purpose."))


class LLMUsageSerializer(serializers.Serializer):
    # A plain string: an enum here would become a schema component named after the field,
    # clashing with other apps' `group_by` choices.
    group_by = serializers.CharField(help_text=gettext_lazy("day, model or purpose"))
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    totals = LLMUsageRowSerializer()
    groups = LLMUsageGroupSerializer(many=True)


class LLMUsageView(TenantAPIView):
    @extend_schema(
        parameters=[LLMUsageQuerySerializer],
        responses=LLMUsageSerializer,
        summary="LLM usage and cost",
        description=(
            "Calls, errors, tokens, cost (CNY) and p95 latencies of the tenant's LLM calls in "
            "[since, until), grouped by local day, model or purpose. Latency percentiles count "
            "successful calls only."
        ),
        tags=["llm"],
    )
    def get(self, request: Request) -> Response:
        query = LLMUsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(LLMUsageSerializer(usage_summary(**query.validated_data)).data)
