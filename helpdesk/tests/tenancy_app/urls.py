from django.urls import include, path
from rest_framework.routers import SimpleRouter

from helpdesk.tests.tenancy_app.views import NoteViewSet
from helpdesk.urls import urlpatterns as project_urlpatterns

router = SimpleRouter()
router.register("notes", NoteViewSet, basename="note")


def boom(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/v1/test/", include(router.urls)),
    path("api/v1/boom/", boom),
    *project_urlpatterns,
]

handler400 = "helpdesk.api.exceptions.json_400"
handler404 = "helpdesk.api.exceptions.json_404"
handler500 = "helpdesk.api.exceptions.json_500"
