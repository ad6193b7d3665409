"""Visitor ids: the widget's anonymous ids, and a tenant's own customer ids it signs."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Tenant
from conftest import api_client_for
from dialogue.identity import identity_hash
from helpdesk.testing import assert_matches_schema

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/chat/visitor-token/"
SECRET_URL = "/api/v1/chat/identity-secret/"
SECRET = "s3cr3t-" + "x" * 40


def ask_token(client, tenant, visitor_id, **extra):
    body = {"widget_key": tenant.widget_key, "visitor_id": visitor_id, **extra}
    return client.post(TOKEN_URL, body, format="json")


@pytest.mark.parametrize("visitor_id", ["v-3f9c0a7d2b6e4c1a", "visitor-1", "order:A1027"])
def test_anonymous_ids_get_a_token(tenant_a, visitor_id):
    response = ask_token(APIClient(), tenant_a, visitor_id)
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    "visitor_id", ["zhang.san@example.com", "13800138000", "+8613800138000", "138-0013-8000"]
)
def test_unsigned_ids_that_name_a_person_are_refused(tenant_a, visitor_id):
    response = ask_token(APIClient(), tenant_a, visitor_id)
    assert response.status_code == 400
    assert "visitor_id" in response.json()["error"]["fields"]
    assert_matches_schema(response, "post", TOKEN_URL)


def test_a_signed_customer_id_gets_a_token_and_a_wrong_signature_does_not(
    tenant_a, tenant_b, admin_a
):
    api_client = APIClient()
    admin = api_client_for(admin_a)
    assert admin.put(SECRET_URL, {"identity_secret": SECRET}, format="json").status_code == 204
    tenant_a.refresh_from_db()
    email = "zhang.san@example.com"

    signed = ask_token(api_client, tenant_a, email, identity_hash=identity_hash(SECRET, email))
    assert signed.status_code == 201 and signed.json()["data"]["visitor_id"] == email

    forged = ask_token(api_client, tenant_a, email, identity_hash=identity_hash("guess", email))
    assert forged.status_code == 400 and "identity_hash" in forged.json()["error"]["fields"]
    # Tenant B has no secret: a signature means nothing there.
    other = ask_token(api_client, tenant_b, email, identity_hash=identity_hash(SECRET, email))
    assert other.status_code == 400


def test_only_tenant_admins_set_the_secret_and_it_is_never_returned(
    tenant_a, admin_a, agent_a, admin_b
):
    refused = api_client_for(agent_a).put(SECRET_URL, {"identity_secret": SECRET}, format="json")
    assert refused.status_code == 403
    short = api_client_for(admin_a).put(SECRET_URL, {"identity_secret": "x" * 8}, format="json")
    assert short.status_code == 400
    saved = api_client_for(admin_a).put(SECRET_URL, {"identity_secret": SECRET}, format="json")
    assert saved.status_code == 204 and not saved.content
    api_client_for(admin_b).delete(SECRET_URL)
    assert Tenant.objects.get(pk=tenant_a.pk).identity_secret == SECRET
    assert api_client_for(admin_a).delete(SECRET_URL).status_code == 204
    assert Tenant.objects.get(pk=tenant_a.pk).identity_secret == ""
