from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from helpdesk.api.config_views import ConfigView
from helpdesk.api.docs import redoc_csp
from helpdesk.health import healthz

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("config/", ConfigView.as_view(), name="config"),
    path("", include("workorders.urls")),
    path("", include("knowledge.urls")),
    path("", include("alerts.urls")),
    path("", include("dialogue.urls")),
    path("", include("llm.urls")),
    path("", include("reports.urls")),
    path("feishu/", include("feishu.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("desk/", include("dialogue.desk_urls")),
    # The dashboard is the admin's front page (admin/) and comes before the admin's own.
    path("admin/", include("reports.admin_urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("chat/", include("dialogue.widget_urls")),
    path("feishu/", include("feishu.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", redoc_csp(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("api-auth/", include("accounts.browsable_api_urls")),
]

handler400 = "helpdesk.api.exceptions.json_400"
handler404 = "helpdesk.api.exceptions.json_404"
handler500 = "helpdesk.api.exceptions.json_500"
