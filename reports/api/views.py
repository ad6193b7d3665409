"""GET /api/v1/reports/summary/ and /export/: the dashboard's numbers and files."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.views import TenantAPIView
from helpdesk.spreadsheets import XLSX_TYPE
from reports import exporting
from reports.api.serializers import (
    ExportQuerySerializer,
    PeriodQuerySerializer,
    SummarySerializer,
)
from reports.counters import counters_with_previous
from reports.selectors import period_info, period_report


class ReportSummaryView(TenantAPIView):
    @extend_schema(
        parameters=[PeriodQuerySerializer],
        responses=SummarySerializer,
        summary="Dashboard counters of a period, with the previous period's values",
        description=(
            "Days are the tenant's (its time zone). The previous period has as many days and "
            "ends as far into its last day (today until now compares with yesterday until the "
            "same time). Ratios are 0..1, durations seconds, cost CNY; null when there is "
            "nothing to measure."
        ),
        tags=["reports"],
    )
    def get(self, request: Request) -> Response:
        query = PeriodQuerySerializer(data=request.query_params, context={"tenant": request.tenant})
        query.is_valid(raise_exception=True)
        period = query.period
        data = {**period_info(request.tenant, period), "counters": counters_with_previous(period)}
        return Response(SummarySerializer(data).data)


class ReportExportView(TenantAPIView):
    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={(200, XLSX_TYPE): OpenApiTypes.BINARY, (200, "text/csv"): OpenApiTypes.BINARY},
        summary="The report as an XLSX workbook, or one section as CSV",
        description=(
            "Without `table`: a workbook with one sheet per section (counters, conversations "
            "per day, LLM usage, work orders, SLA compliance, alerts, unanswered questions), "
            "each headed by the tenant and the period. With `table`: that section as CSV."
        ),
        tags=["reports"],
    )
    def get(self, request: Request) -> HttpResponse:
        query = ExportQuerySerializer(data=request.query_params, context={"tenant": request.tenant})
        query.is_valid(raise_exception=True)
        report = period_report(tenant=request.tenant, period=query.period)
        table = query.validated_data["table"]
        return exporting.table_csv(report, table) if table else exporting.workbook(report)
