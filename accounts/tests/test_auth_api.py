import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken
from conftest import PASSWORD
from helpdesk.config import get_config
from helpdesk.testing import assert_matches_schema

LOGIN = "/api/v1/auth/login/"


def login(client: APIClient, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


@pytest.mark.django_db
class TestLogin:
    def test_login_returns_token_and_user(self, agent_a, tenant_a):
        response = login(APIClient(), "agent-a", PASSWORD)
        assert response.status_code == 200
        assert_matches_schema(response, "post", LOGIN)
        data = response.json()["data"]
        assert data["user"]["tenant"]["slug"] == tenant_a.slug
        assert data["user"]["role"] == "agent"
        token = ApiToken.objects.get(user=agent_a)
        assert token.digest != data["token"]
        assert data["token"] not in str(token.__dict__)

    def test_token_authenticates_me_and_logout_revokes_it(self, agent_a):
        key = login(APIClient(), "agent-a", PASSWORD).json()["data"]["token"]
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        me = client.get("/api/v1/auth/me/")
        assert me.status_code == 200
        assert_matches_schema(me, "get", "/api/v1/auth/me/")
        assert me.json()["data"]["username"] == "agent-a"
        assert client.post("/api/v1/auth/logout/").status_code == 204
        after = client.get("/api/v1/auth/me/")
        assert after.status_code == 401
        assert_matches_schema(after, "get", "/api/v1/auth/me/")

    def test_session_authentication_works_for_me(self, agent_a):
        client = APIClient()
        client.force_login(agent_a)
        assert client.get("/api/v1/auth/me/").json()["data"]["username"] == "agent-a"

    def test_failure_does_not_reveal_whether_the_user_exists(self, agent_a):
        wrong_password = login(APIClient(), "agent-a", "nope")
        no_such_user = login(APIClient(), "ghost", "nope")
        assert wrong_password.status_code == no_such_user.status_code == 401
        assert wrong_password.json() == no_such_user.json()
        assert_matches_schema(wrong_password, "post", LOGIN)

    def test_inactive_tenant_cannot_log_in(self, agent_a, tenant_a):
        tenant_a.is_active = False
        tenant_a.save()
        assert login(APIClient(), "agent-a", PASSWORD).status_code == 401

    def test_missing_fields_are_a_400_naming_them(self, db):
        response = APIClient().post(LOGIN, {"username": ""}, format="json")
        assert response.status_code == 400
        body = response.json()
        assert body["error"]["code"] == "invalid"
        assert set(body["error"]["fields"]) == {"username", "password"}
        assert_matches_schema(response, "post", LOGIN)

    def test_expired_token_is_refused(self, agent_a):
        from datetime import timedelta

        _token, key = ApiToken.issue(user=agent_a, max_age=timedelta(seconds=-1))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/v1/auth/me/").status_code == 401


@pytest.mark.django_db
class TestLoginThrottling:
    def test_per_user_limit_gives_429_even_with_the_right_password(self, agent_a):
        get_config().set("security.login_failures_per_user", 3)
        for attempt in range(3):
            assert login(APIClient(), "agent-a", "bad", ip=f"10.0.0.{attempt}").status_code == 401
        blocked = login(APIClient(), "agent-a", PASSWORD, ip="10.0.0.99")
        assert blocked.status_code == 429
        assert blocked.json()["error"]["code"] == "login_throttled"
        assert "Retry-After" in blocked.headers
        assert_matches_schema(blocked, "post", LOGIN)
        assert login(APIClient(), "agent-b-unrelated", "bad", ip="10.0.0.99").status_code == 401

    def test_per_ip_limit_covers_many_usernames(self, agent_a):
        get_config().set("security.login_failures_per_ip", 4)
        for n in range(4):
            login(APIClient(), f"user{n}", "bad", ip="10.9.9.9")
        assert login(APIClient(), "agent-a", PASSWORD, ip="10.9.9.9").status_code == 429
        assert login(APIClient(), "agent-a", PASSWORD, ip="10.9.9.8").status_code == 200

    def test_success_resets_the_user_counter(self, agent_a):
        get_config().set("security.login_failures_per_user", 3)
        login(APIClient(), "agent-a", "bad")
        login(APIClient(), "agent-a", "bad")
        assert login(APIClient(), "agent-a", PASSWORD).status_code == 200
        login(APIClient(), "agent-a", "bad")
        login(APIClient(), "agent-a", "bad")
        assert login(APIClient(), "agent-a", PASSWORD).status_code == 200


@pytest.mark.django_db
class TestLanguage:
    def test_errors_default_to_simplified_chinese(self, db):
        response = login(APIClient(), "ghost", "nope")
        assert response.json()["error"]["message"] == "用户名或密码错误。"

    def test_english_on_request(self, db):
        response = APIClient().post(
            LOGIN, {"username": "ghost", "password": "x"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert response.json()["error"]["message"] == "Invalid username or password."
