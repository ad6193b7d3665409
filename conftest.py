"""Shared fixtures: two tenants, a user of each role per tenant, API clients."""

import logging
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers
from django.core.cache import cache
from django.db import connections
from rest_framework.test import APIClient

from accounts.models import ApiToken, Tenant, User
from helpdesk.roles import Role
from helpdesk.tenancy import tenant_scope

PASSWORD = "correct horse battery staple"


def _not_about_throwaway_loops(record: logging.LogRecord) -> bool:
    """Django's test client runs each async view on an event loop of its own, closed
    after the request; the LLM client's aiohttp sessions of those loops cannot be
    closed once their loop is gone (a server closes its own in its ASGI lifespan).
    lark-oapi's WebSocket client schedules a cache-clearing task on the thread's loop
    when it is made; the tests that make one without running it leave that task pending."""
    message = record.getMessage()
    return not (
        message.startswith(("Unclosed client session", "Unclosed connector"))
        or "ExpiringCache._start_clear_cron" in message
    )


logging.getLogger("asyncio").addFilter(_not_about_throwaway_loops)


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools(django_db_setup, django_db_blocker) -> Iterator[None]:
    """Close the PostgreSQL connection pool before the test database is dropped: worker
    threads (sync_to_async, test servers) leave their connections in it."""
    yield
    with django_db_blocker.unblock():
        for connection in connections.all(initialized_only=True):
            if hasattr(connection, "close_pool"):
                connection.close_pool()


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Each test gets channel layers of its own: channels_redis keeps a receive lock
    bound to the event loop that made it, and every async test runs on a new loop (a
    consumer a failed test left receiving would otherwise break the tests after it)."""
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _settings_file(tmp_path, settings) -> None:
    """Each test gets its own system_settings.json (the ConfigService reads the path from
    the settings on every read)."""
    settings.HELPDESK_SETTINGS_FILE = tmp_path / "system_settings.json"


@pytest.fixture
def tenant_a(db) -> Tenant:
    return Tenant.objects.create(name="租户甲", slug="tenant-a")


@pytest.fixture
def tenant_b(db) -> Tenant:
    return Tenant.objects.create(name="租户乙", slug="tenant-b")


def make_user(tenant: Tenant | None, role: str, username: str, **extra) -> User:
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        tenant=tenant,
        role=role,
        is_staff=True,
        **extra,
    )


@pytest.fixture
def admin_a(tenant_a) -> User:
    return make_user(tenant_a, Role.TENANT_ADMIN, "admin-a")


@pytest.fixture
def agent_a(tenant_a) -> User:
    return make_user(tenant_a, Role.AGENT, "agent-a")


@pytest.fixture
def viewer_a(tenant_a) -> User:
    return make_user(tenant_a, Role.VIEWER, "viewer-a")


@pytest.fixture
def admin_b(tenant_b) -> User:
    return make_user(tenant_b, Role.TENANT_ADMIN, "admin-b")


@pytest.fixture
def agent_b(tenant_b) -> User:
    return make_user(tenant_b, Role.AGENT, "agent-b")


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser(username="root", password=PASSWORD, email="")


def api_client_for(user: User) -> APIClient:
    """An APIClient authenticated the way integrations are: with a real token."""
    from datetime import timedelta

    _token, key = ApiToken.issue(user=user, max_age=timedelta(days=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def client_a(agent_a) -> APIClient:
    return api_client_for(agent_a)


@pytest.fixture
def client_b(agent_b) -> APIClient:
    return api_client_for(agent_b)


@pytest.fixture
def scope_a(tenant_a) -> Iterator[Tenant]:
    with tenant_scope(tenant_a):
        yield tenant_a


@pytest.fixture
def scope_b(tenant_b) -> Iterator[Tenant]:
    with tenant_scope(tenant_b):
        yield tenant_b
