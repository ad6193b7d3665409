"""/api/v1/feishu/apps/: tenant administrators only, secrets write-only, two tenants."""

import pytest

from conftest import api_client_for
from feishu.models import FeishuApp
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema

pytestmark = pytest.mark.django_db

LIST = "/api/v1/feishu/apps/"
DETAIL = "/api/v1/feishu/apps/{id}/"


def new_app(**fields) -> dict:
    return {
        "name": "售后机器人",
        "app_id": "cli_api",
        "app_secret": "api-secret",
        "encrypt_key": "api-encrypt",
        "verification_token": "api-token",
        "domain": "lark",
        **fields,
    }


def test_create_and_read_never_return_secrets(admin_a, tenant_a):
    client = api_client_for(admin_a)
    response = client.post(LIST, new_app(), format="json")
    assert response.status_code == 201, response.content
    assert_matches_schema(response, "POST", LIST)
    body = response.content.decode()
    assert "api-secret" not in body and "api-encrypt" not in body and "api-token" not in body
    data = response.json()["data"]
    assert data["secrets_set"] == {
        "app_secret": True,
        "verification_token": True,
        "encrypt_key": True,
    }
    assert data["event_url"].endswith("/feishu/cli_api/events/")
    listing = client.get(LIST)
    assert_matches_schema(listing, "GET", LIST)
    assert "api-secret" not in listing.content.decode()
    with tenant_scope(tenant_a):
        assert FeishuApp.objects.get().app_secret == "api-secret"


def test_patch_changes_a_secret_and_keeps_the_others(admin_a, app_a, tenant_a, settings):
    client = api_client_for(admin_a)
    response = client.patch(DETAIL.format(id=app_a.pk), {"app_secret": "rotated"}, format="json")
    assert response.status_code == 200
    assert_matches_schema(response, "PATCH", DETAIL)
    with tenant_scope(tenant_a):
        app = FeishuApp.objects.get()
        assert app.app_secret == "rotated" and app.encrypt_key == "encrypt-key-a"


def test_bad_input_is_a_clear_400(admin_a, app_b, settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False  # as in production
    client = api_client_for(admin_a)
    response = client.post(LIST, new_app(domain="ftp://x"), format="json")
    assert response.status_code == 400
    assert_matches_schema(response, "POST", LIST)
    assert "domain" in response.json()["error"]["fields"]
    for domain in ("http://10.0.0.1", "https://user@open.feishu.cn", "https://x.cn/path"):
        refused = client.post(LIST, new_app(domain=domain), format="json")
        assert refused.status_code == 400, domain
    local = client.post(LIST, new_app(domain="http://127.0.0.1:8766"), format="json")
    assert local.status_code == 400  # only with OUTBOUND_ALLOW_PRIVATE (the local stub)
    taken = client.post(LIST, new_app(app_id="cli_b"), format="json")
    assert taken.status_code == 400
    assert "tenant" not in taken.content.decode().lower()
    missing = client.post(LIST, {"name": "x"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["error"]["fields"]) >= {"app_id", "app_secret"}


def test_only_tenant_admins(agent_a, app_a):
    response = api_client_for(agent_a).get(LIST)
    assert response.status_code == 403
    assert_matches_schema(response, "GET", LIST)


def test_tenant_b_sees_none_of_tenant_a(admin_b, app_a):
    client = api_client_for(admin_b)
    assert client.get(LIST).json()["data"] == []
    response = client.get(DETAIL.format(id=app_a.pk))
    assert response.status_code == 404
    assert client.delete(DETAIL.format(id=app_a.pk)).status_code == 404


def test_check_connection(admin_a, app_a, stub):
    response = api_client_for(admin_a).post(f"{LIST}{app_a.pk}/check/")
    assert response.status_code == 200
    assert_matches_schema(response, "POST", "/api/v1/feishu/apps/{id}/check/")
    assert response.json()["data"] == {"ok": True, "missing_scopes": [], "error": ""}
    stub.state.add_app("cli_a", "another-secret")
    failed = api_client_for(admin_a).post(f"{LIST}{app_a.pk}/check/").json()["data"]
    assert failed["ok"] is False and "10014" in failed["error"]


def test_delete(admin_a, app_a, tenant_a):
    response = api_client_for(admin_a).delete(DETAIL.format(id=app_a.pk))
    assert response.status_code == 204
    with tenant_scope(tenant_a):
        assert not FeishuApp.objects.exists()
