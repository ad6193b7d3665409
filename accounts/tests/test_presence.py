"""Who is at the staff desk: agents and administrators only, read in one query, and
nobody (logged once per interval) while the cache is down."""

import logging

import pytest

from accounts import presence as presence_module
from accounts.presence import (
    Presence,
    StaffPresence,
    agents_online,
    presence_clear,
    presence_set,
    staff_present,
)
from conftest import make_user
from helpdesk.outages import reset_outage_log
from helpdesk.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(tenant_a, admin_a, agent_a, viewer_a, agent_b):
    away = make_user(tenant_a, Role.AGENT, "agent-away", first_name="Zoe")
    gone = make_user(tenant_a, Role.AGENT, "agent-gone", is_active=False)
    presence_set(user=admin_a, presence=Presence.ONLINE)
    presence_set(user=agent_a, presence=Presence.ONLINE)
    presence_set(user=away, presence=Presence.AWAY)
    presence_set(user=viewer_a, presence=Presence.ONLINE)  # a viewer works no desk
    presence_set(user=gone, presence=Presence.ONLINE)  # deactivated since
    presence_set(user=agent_b, presence=Presence.ONLINE)  # another tenant
    return away


def test_only_active_agents_and_admins_of_the_tenant(
    desk, tenant_a, admin_a, agent_a, django_assert_num_queries
):
    with django_assert_num_queries(1) as queries:
        present = staff_present(tenant_a.pk)
    assert "password" not in queries.captured_queries[0]["sql"]  # the fields shown only
    assert present == [
        StaffPresence(admin_a.pk, "admin-a", Presence.ONLINE),
        StaffPresence(agent_a.pk, "agent-a", Presence.ONLINE),
        StaffPresence(desk.pk, "Zoe", Presence.AWAY),
    ]
    with django_assert_num_queries(1):
        assert agents_online(tenant_a.pk) == 2
    presence_clear(user=agent_a)
    assert agents_online(tenant_a.pk) == 1


def test_nobody_is_present_while_the_cache_is_down(desk, tenant_a, agent_a, settings, caplog):
    reset_outage_log()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with caplog.at_level(logging.WARNING, logger="helpdesk.outage"):
        presence_set(user=agent_a, presence=Presence.ONLINE)
        presence_clear(user=agent_a)
        for _ in range(3):
            assert staff_present(tenant_a.pk) == []
            assert agents_online(tenant_a.pk) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "helpdesk.outage"]
    assert len(lines) == 3  # one per place (saving, clearing, reading), not one per call
    assert all("cache unavailable" in line for line in lines)


class BrokenCache:
    def __getattr__(self, name):
        def broken(*args, **kwargs):
            raise RuntimeError("a bug, not an outage")

        return broken


def test_other_cache_errors_are_raised(desk, tenant_a, agent_a, monkeypatch):
    monkeypatch.setattr(presence_module, "cache", BrokenCache())
    with pytest.raises(RuntimeError):
        agents_online(tenant_a.pk)
    with pytest.raises(RuntimeError):
        presence_set(user=agent_a, presence=Presence.ONLINE)
