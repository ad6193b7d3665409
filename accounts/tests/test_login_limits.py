"""One login limiter for every way to log in, keyed by username and trusted address."""

import pytest
from django.contrib.auth import authenticate
from django.test import Client
from rest_framework.test import APIClient

from conftest import PASSWORD
from helpdesk.config import get_config
from helpdesk.rate_limits import resilient_cache

API_LOGIN = "/api/v1/auth/login/"
ADMIN_LOGIN = "/admin/login/"
BROWSABLE_LOGIN = "/api-auth/login/"


def api_login(username: str, password: str, **extra) -> int:
    response = APIClient().post(
        API_LOGIN, {"username": username, "password": password}, format="json", **extra
    )
    return response.status_code


def form_login(path: str, username: str, password: str, **extra):
    client = Client()
    client.get(path, **extra)  # the CSRF cookie
    response = client.post(
        path,
        {"username": username, "password": password, "next": "/admin/"},
        **extra,
    )
    return client, response


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def _small_limits(db):
    resilient_cache.clear_local()
    config = get_config()
    config.set("security.login_failures_per_user", 3)
    config.set("security.login_failures_per_ip", 5)
    yield
    resilient_cache.clear_local()


@pytest.mark.parametrize("path", [ADMIN_LOGIN, BROWSABLE_LOGIN])
def test_form_logins_lock_the_user_and_refuse_the_right_password(path, agent_a):
    for n in range(3):
        _client, response = form_login(path, "agent-a", "wrong", REMOTE_ADDR=f"10.1.0.{n}")
        assert response.status_code == 200
    client, response = form_login(path, "agent-a", PASSWORD, REMOTE_ADDR="10.1.0.99")
    assert not logged_in(client)
    codes = [error.code for error in response.context["form"].non_field_errors().as_data()]
    assert codes == ["login_locked"]
    # Another user from the same address is not affected.
    assert api_login("viewer-x", "wrong", REMOTE_ADDR="10.1.0.99") == 401


def test_every_path_counts_against_the_same_user(agent_a):
    form_login(ADMIN_LOGIN, "agent-a", "wrong", REMOTE_ADDR="10.2.0.1")
    form_login(BROWSABLE_LOGIN, "agent-a", "wrong", REMOTE_ADDR="10.2.0.2")
    assert api_login("agent-a", "wrong", REMOTE_ADDR="10.2.0.3") == 401
    assert api_login("agent-a", PASSWORD, REMOTE_ADDR="10.2.0.4") == 429
    client, _response = form_login(ADMIN_LOGIN, "agent-a", PASSWORD, REMOTE_ADDR="10.2.0.5")
    assert not logged_in(client)
    # A direct authenticate() call (a future WebSocket or Feishu login) is refused too.
    assert authenticate(None, username="agent-a", password=PASSWORD, client_ip="10.2.0.6") is None


def test_per_address_limit_on_the_admin(agent_a, agent_b):
    for n in range(5):
        form_login(ADMIN_LOGIN, f"ghost{n}", "wrong", REMOTE_ADDR="10.3.0.1")
    client, _response = form_login(ADMIN_LOGIN, "agent-b", PASSWORD, REMOTE_ADDR="10.3.0.1")
    assert not logged_in(client)
    client, _response = form_login(ADMIN_LOGIN, "agent-b", PASSWORD, REMOTE_ADDR="10.3.0.2")
    assert logged_in(client)


def test_same_answer_whether_the_user_exists(agent_a):
    for _ in range(3):
        form_login(ADMIN_LOGIN, "agent-a", "wrong", REMOTE_ADDR="10.4.0.1")
        form_login(ADMIN_LOGIN, "nobody", "wrong", REMOTE_ADDR="10.4.0.2")
    _c, existing = form_login(ADMIN_LOGIN, "agent-a", "wrong", REMOTE_ADDR="10.4.0.3")
    _c, missing = form_login(ADMIN_LOGIN, "nobody", "wrong", REMOTE_ADDR="10.4.0.4")
    assert existing.status_code == missing.status_code == 200
    assert existing.context["form"].errors == missing.context["form"].errors
    assert api_login("agent-a", "wrong", REMOTE_ADDR="10.4.0.5") == 429
    assert api_login("nobody", "wrong", REMOTE_ADDR="10.4.0.6") == 429


def test_rotating_x_forwarded_for_gets_no_fresh_limit(agent_a):
    for n in range(5):
        assert api_login(f"ghost{n}", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}") == 401
    assert api_login("agent-a", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7") == 429


def test_trusted_proxy_count_reads_the_proxys_entry(agent_a, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        # The client wrote "1.1.1.n"; our proxy appended the address it saw.
        extra = {"HTTP_X_FORWARDED_FOR": f"1.1.1.{n}, 198.51.100.20", "REMOTE_ADDR": "10.0.0.2"}
        assert api_login(f"ghost{n}", "wrong", **extra) == 401
    blocked = {"HTTP_X_FORWARDED_FOR": "9.9.9.9, 198.51.100.20", "REMOTE_ADDR": "10.0.0.2"}
    assert api_login("agent-a", PASSWORD, **blocked) == 429
    other = {"HTTP_X_FORWARDED_FOR": "198.51.100.21", "REMOTE_ADDR": "10.0.0.2"}
    assert api_login("agent-a", PASSWORD, **other) == 200


def test_limits_hold_when_the_cache_is_down(agent_a, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert api_login("agent-a", PASSWORD, REMOTE_ADDR="10.5.0.1") == 200
    for _ in range(3):
        assert api_login("agent-a", "wrong", REMOTE_ADDR="10.5.0.1") == 401
    assert api_login("agent-a", PASSWORD, REMOTE_ADDR="10.5.0.2") == 429
    assert any("cache unavailable" in record.getMessage() for record in caplog.records)


def test_clients_without_an_address_do_not_share_a_lock(agent_a, agent_b):
    """No socket peer ("unknown"): failures count against the username only, so one such
    client cannot lock out every other, and the username's limit still holds."""
    for n in range(5):
        assert api_login(f"ghost{n}", "wrong", REMOTE_ADDR="") == 401
    assert api_login("agent-b", PASSWORD, REMOTE_ADDR="") == 200
    for _ in range(3):
        assert api_login("agent-a", "wrong", REMOTE_ADDR="") == 401
    assert api_login("agent-a", PASSWORD, REMOTE_ADDR="") == 429
    client, _response = form_login(ADMIN_LOGIN, "agent-a", PASSWORD, REMOTE_ADDR="")
    assert not logged_in(client)
