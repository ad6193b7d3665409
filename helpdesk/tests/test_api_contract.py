"""The envelope, the error shape and the schema, on a tenant-owned test resource."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from conftest import api_client_for
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from helpdesk.tests.tenancy_app.models import Folder, Note

URLCONF = "helpdesk.tests.tenancy_app.urls"
LIST = "/api/v1/test/notes/"
DETAIL = "/api/v1/test/notes/{id}/"
pytestmark = [pytest.mark.urls(URLCONF), pytest.mark.django_db]


def check(response, method: str, path: str) -> dict:
    assert_matches_schema(response, method, path, urlconf=URLCONF)
    return response.json()


@pytest.fixture
def notes(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        folder_a = Folder.objects.create(name="a")
        for n in range(3):
            Note.objects.create(folder=folder_a, text=f"a{n}")
    with tenant_scope(tenant_b):
        folder_b = Folder.objects.create(name="b")
        note_b = Note.objects.create(folder=folder_b, text="b0")
    return {"folder_a": folder_a, "folder_b": folder_b, "note_b": note_b}


def test_schema_generates_without_warnings():
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    assert "openapi: 3.1.0" in out.getvalue()


def test_list_is_enveloped_with_pagination_meta(client_a, notes):
    body = check(client_a.get(LIST, {"page_size": 2}), "get", LIST)
    assert body["success"] is True
    assert [n["text"] for n in body["data"]] == ["a0", "a1"]
    assert body["meta"]["pagination"]["count"] == 3
    assert body["meta"]["pagination"]["pages"] == 2


def test_other_tenants_id_is_404_not_403(client_a, notes):
    url = DETAIL.format(id=notes["note_b"].pk)
    for response in (client_a.get(url), client_a.patch(url, {"text": "x"}), client_a.delete(url)):
        assert response.status_code == 404
    body = check(client_a.get(url), "get", DETAIL)
    assert body == {
        "success": False,
        "error": {"code": "not_found", "message": body["error"]["message"], "fields": {}},
    }


def test_create_takes_tenant_from_request_and_refuses_foreign_links(client_a, notes, tenant_a):
    created = client_a.post(LIST, {"folder": notes["folder_a"].pk, "text": "new"})
    assert created.status_code == 201
    check(created, "post", LIST)
    assert Note.all_tenants.get(pk=created.json()["data"]["id"]).tenant_id == tenant_a.pk
    foreign = client_a.post(LIST, {"folder": notes["folder_b"].pk, "text": "bad"})
    assert foreign.status_code == 400
    assert "folder" in check(foreign, "post", LIST)["error"]["fields"]
    assert not Note.all_tenants.filter(text="bad").exists()


def test_bad_input_is_400_with_fields(client_a, notes):
    response = client_a.post(LIST, {"folder": "abc", "text": "x" * 500})
    body = check(response, "post", LIST)
    assert response.status_code == 400
    assert body["error"]["code"] == "invalid"
    assert set(body["error"]["fields"]) == {"folder", "text"}


def test_malformed_json_is_400(client_a, notes):
    response = client_a.generic("POST", LIST, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert check(response, "post", LIST)["error"]["code"] == "parse_error"


def test_401_without_credentials(notes):
    response = APIClient().get(LIST)
    assert response.status_code == 401
    assert check(response, "get", LIST)["error"]["code"] == "not_authenticated"


def test_403_viewer_cannot_write(viewer_a, notes):
    response = api_client_for(viewer_a).post(LIST, {"folder": notes["folder_a"].pk, "text": "x"})
    assert response.status_code == 403
    assert check(response, "post", LIST)["error"]["code"] == "permission_denied"


def test_403_platform_superuser_has_no_tenant_api(superuser, notes):
    response = api_client_for(superuser).get(LIST)
    assert response.status_code == 403


def test_405_method_not_allowed(client_a, notes):
    response = client_a.put(LIST, {})
    assert response.status_code == 405
    assert check(response, "get", LIST)["error"]["code"] == "method_not_allowed"


def test_429_has_the_error_shape(client_a, notes, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    from helpdesk.tests.tenancy_app.views import NoteViewSet

    class TwoPerMinute(UserRateThrottle):
        rate = "2/min"

    monkeypatch.setattr(NoteViewSet, "throttle_classes", [TwoPerMinute])
    responses = [client_a.get(LIST) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    body = check(responses[-1], "get", LIST)
    assert body["error"]["code"] == "throttled"
    assert int(responses[-1].headers["Retry-After"]) > 0


def test_500_inside_a_view_has_the_error_shape(client_a, notes, monkeypatch):
    from helpdesk.tests.tenancy_app import views

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(views.NoteViewSet, "list", explode)
    response = client_a.get(LIST)
    assert response.status_code == 500
    body = check(response, "get", LIST)
    assert body["error"]["code"] == "server_error"
    assert "fire" not in response.content.decode()


def test_500_outside_drf_is_json_under_api(client_a):
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


def test_unknown_api_path_is_json_404(client_a):
    response = client_a.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_browsable_api_for_logged_in_staff(agent_a, notes):
    client = APIClient()
    client.force_login(agent_a)
    response = client.get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"<html" in response.content.lower()


def test_json_for_non_staff_asking_for_html(notes):
    response = APIClient().get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    assert response.json()["success"] is False


@pytest.mark.urls("helpdesk.urls")
def test_docs_pages_are_served(db):
    client = APIClient()
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/redoc/").status_code == 200
