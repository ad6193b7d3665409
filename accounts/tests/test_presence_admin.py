"""The admin's user list shows who is at the staff desk, within the tenant only."""

import re

import pytest

from accounts.presence import Presence, presence_set
from conftest import make_user
from helpdesk.roles import Role

pytestmark = pytest.mark.django_db


def presence_column(client, user) -> dict[str, str]:
    """username -> the list's "At the desk" cell."""
    client.force_login(user)
    page = client.get("/admin/accounts/user/", headers={"accept-language": "en"})
    assert page.status_code == 200
    rows = re.findall(
        r'<a href="/admin/accounts/user/\d+/change/">([^<]+)</a>.*?'
        r'<td class="field-at_the_desk">([^<]*)</td>',
        page.content.decode(),
        re.S,
    )
    return dict(rows)


def test_the_user_list_shows_who_is_at_the_desk(client, admin_a, agent_a, admin_b, agent_b):
    away = make_user(agent_a.tenant, Role.AGENT, "agent-away")
    presence_set(user=agent_a, presence=Presence.ONLINE)
    presence_set(user=away, presence=Presence.AWAY)
    presence_set(user=agent_b, presence=Presence.ONLINE)

    assert presence_column(client, admin_a) == {
        "admin-a": "—",
        "agent-a": "Online",
        "agent-away": "Away",
    }
    assert presence_column(client, admin_b) == {"admin-b": "—", "agent-b": "Online"}
