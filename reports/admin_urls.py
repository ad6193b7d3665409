"""The dashboard in the admin: its front page and the page's data, downloads and drafts."""

from django.contrib import admin
from django.urls import path

from reports import admin_views

urlpatterns = [
    path("", admin.site.admin_view(admin_views.dashboard), name="reports-dashboard"),
    path(
        "dashboard/data/",
        admin.site.admin_view(admin_views.dashboard_data),
        name="reports-dashboard-data",
    ),
    path(
        "dashboard/export/",
        admin.site.admin_view(admin_views.dashboard_export),
        name="reports-dashboard-export",
    ),
    path(
        "dashboard/knowledge-draft/",
        admin.site.admin_view(admin_views.knowledge_draft_start),
        name="reports-knowledge-draft",
    ),
]
