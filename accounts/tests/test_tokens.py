"""API tokens: revoked by a password change and a deactivation; listed and revoked by
their owner, and by the tenant admin within the tenant."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from helpdesk.testing import assert_matches_schema

TOKENS = "/api/v1/auth/tokens/"
TOKEN = "/api/v1/auth/tokens/{token_id}/"


def client_with_token(user: User) -> tuple[APIClient, ApiToken]:
    token, key = ApiToken.issue(user=user, max_age=timedelta(days=1), name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client, token


@pytest.mark.django_db
class TestRevokedByAccountChanges:
    def test_a_password_change_revokes_every_token(self, agent_a):
        client, _token = client_with_token(agent_a)
        other, _other_token = client_with_token(agent_a)
        assert client.get("/api/v1/auth/me/").status_code == 200
        agent_a.set_password("a whole new password 2026")
        agent_a.save()
        assert client.get("/api/v1/auth/me/").status_code == 401
        assert other.get("/api/v1/auth/me/").status_code == 401
        assert not ApiToken.objects.filter(user=agent_a).exists()

    def test_a_password_changed_in_the_admin_revokes_them(self, agent_a, admin_a):
        client, _token = client_with_token(agent_a)
        browser = Client()
        browser.force_login(admin_a)
        response = browser.post(
            f"/admin/accounts/user/{agent_a.pk}/password/",
            {"password1": "Another-Pass-2026!", "password2": "Another-Pass-2026!"},
        )
        assert response.status_code == 302
        assert client.get("/api/v1/auth/me/").status_code == 401

    def test_deactivation_in_the_admin_deletes_them(self, agent_a, admin_a):
        client_with_token(agent_a)
        browser = Client()
        browser.force_login(admin_a)
        data = {
            "username": agent_a.username,
            "role": agent_a.role,
            "is_staff": "on",  # "is_active" left out: unticked
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
        response = browser.post(f"/admin/accounts/user/{agent_a.pk}/change/", data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        agent_a.refresh_from_db()
        assert agent_a.is_active is False
        assert not ApiToken.objects.filter(user=agent_a).exists()

    def test_tokens_from_before_the_fingerprint_migration_keep_working(self, agent_a):
        client, token = client_with_token(agent_a)
        assert token.credential_fingerprint
        assert client.get("/api/v1/auth/me/").status_code == 200


@pytest.mark.django_db
class TestTokenApi:
    def test_a_user_lists_and_revokes_their_own(self, agent_a, viewer_a):
        client, current = client_with_token(agent_a)
        _c, second = client_with_token(agent_a)
        client_with_token(viewer_a)
        response = client.get(TOKENS)
        assert response.status_code == 200
        assert_matches_schema(response, "get", TOKENS)
        listed = {item["id"]: item for item in response.json()["data"]}
        assert set(listed) == {current.pk, second.pk}
        assert listed[current.pk]["current"] is True
        assert "digest" not in listed[current.pk] and "key" not in listed[current.pk]
        revoked = client.delete(TOKEN.format(token_id=second.pk))
        assert revoked.status_code == 204
        assert not ApiToken.objects.filter(pk=second.pk).exists()

    def test_an_agent_cannot_revoke_a_colleagues_token(self, agent_a, viewer_a):
        client, _token = client_with_token(agent_a)
        _c, colleagues = client_with_token(viewer_a)
        response = client.delete(TOKEN.format(token_id=colleagues.pk))
        assert response.status_code == 404
        assert_matches_schema(response, "delete", "/api/v1/auth/tokens/{token_id}/")
        assert ApiToken.objects.filter(pk=colleagues.pk).exists()

    def test_a_tenant_admin_revokes_any_in_their_tenant_only(self, admin_a, agent_a, agent_b):
        admin, _token = client_with_token(admin_a)
        _c, agents = client_with_token(agent_a)
        _c, other_tenants = client_with_token(agent_b)
        listed = {item["id"] for item in admin.get(TOKENS).json()["data"]}
        assert agents.pk in listed and other_tenants.pk not in listed
        assert admin.delete(TOKEN.format(token_id=other_tenants.pk)).status_code == 404
        assert ApiToken.objects.filter(pk=other_tenants.pk).exists()
        assert admin.delete(TOKEN.format(token_id=agents.pk)).status_code == 204

    def test_anonymous_is_401(self, db):
        assert APIClient().get(TOKENS).status_code == 401


@pytest.mark.django_db
class TestTokenAdmin:
    def test_an_agent_sees_only_their_own(self, agent_a, viewer_a, agent_b):
        _c, own = client_with_token(agent_a)
        client_with_token(viewer_a)
        client_with_token(agent_b)
        browser = Client()
        browser.force_login(agent_a)
        page = browser.get("/admin/accounts/apitoken/")
        assert page.status_code == 200
        assert list(page.context["cl"].queryset) == [own]
        deleted = browser.post(f"/admin/accounts/apitoken/{own.pk}/delete/", {"post": "yes"})
        assert deleted.status_code == 302
        assert not ApiToken.objects.filter(pk=own.pk).exists()

    def test_a_tenant_admin_sees_the_tenants(self, admin_a, agent_a, agent_b):
        client_with_token(agent_a)
        client_with_token(agent_b)
        browser = Client()
        browser.force_login(admin_a)
        users = {t.user for t in browser.get("/admin/accounts/apitoken/").context["cl"].queryset}
        assert users == {agent_a}

    def test_dead_tokens_are_hidden_as_in_the_api(self, admin_a, agent_a, viewer_a):
        """Expired tokens, and tokens from before a password change (made here without the
        signal that deletes them), are neither listed nor revocable: the API's rule."""
        _c, live = client_with_token(agent_a)
        _c, expired = client_with_token(agent_a)
        ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
        _c, stale = client_with_token(viewer_a)
        User.objects.filter(pk=viewer_a.pk).update(password="changed elsewhere")
        viewer_a.refresh_from_db()
        for user, expected in ((admin_a, {live}), (agent_a, {live}), (viewer_a, set())):
            browser = Client()
            browser.force_login(user)
            listed = set(browser.get("/admin/accounts/apitoken/").context["cl"].queryset)
            assert listed == expected
        browser = Client()
        browser.force_login(admin_a)
        admin, own = client_with_token(admin_a)
        assert {item["id"] for item in admin.get(TOKENS).json()["data"]} == {live.pk, own.pk}
        page = browser.get(f"/admin/accounts/apitoken/{stale.pk}/delete/")
        assert page.status_code == 302  # not found in the queryset: back to the list


@pytest.mark.django_db
def test_legacy_import_gives_the_admin_to_admins_and_agents_only(tenant_a, tmp_path):
    path = tmp_path / "users.csv"
    digest = "0" * 64
    path.write_text(
        "username,email,name,role,password_hash\n"
        f"boss,,,admin,{digest}\nworker,,,operator,{digest}\nguest,,,guest,{digest}\n",
        encoding="utf-8",
    )
    call_command("import_legacy_users", str(path), tenant=tenant_a.slug)
    staff = dict(User.objects.filter(tenant=tenant_a).values_list("username", "is_staff"))
    assert staff == {"boss": True, "worker": True, "guest": False}
