from django.urls import path

from reports.api.views import ReportExportView, ReportSummaryView

urlpatterns = [
    path("reports/summary/", ReportSummaryView.as_view(), name="reports-summary"),
    path("reports/export/", ReportExportView.as_view(), name="reports-export"),
]
