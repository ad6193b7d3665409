"""The staff desk's page, /desk/: who may open it, what it carries, its strings."""

import json
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import Tenant
from conftest import make_user
from dialogue.desk_strings import desk_strings
from dialogue.tests.test_widget import parse

pytestmark = pytest.mark.django_db

DESK_SCRIPTS = Path(__file__).resolve().parents[1] / "static" / "dialogue" / "desk"


def page_data(response) -> tuple[dict, dict]:
    found = parse(response).json
    return json.loads(found["desk-config"]), json.loads(found["desk-strings"])


def test_anonymous_visitors_go_to_the_admin_login(client):
    response = client.get("/desk/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/desk/"


def test_staff_of_a_tenant_get_the_desk_of_their_tenant(client, agent_a, agent_b, tenant_b):
    client.force_login(agent_a)
    response = client.get("/desk/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="site-name"' in html, "the admin's look"
    config, strings = page_data(response)
    assert config["me"] == {"id": agent_a.pk, "name": "agent-a"}
    assert config["acts"] is True and config["admin"] is False
    assert config["socket"] == "/ws/desk/" and config["heartbeatSeconds"] == 20
    assert config["urls"]["workOrder"] == "/admin/workorders/workorder/{id}/change/"
    assert config["labels"]["status"]["handed_off"]
    with translation.override("zh-hans"):
        assert strings == desk_strings()
    assert tenant_b.name not in html and "agent-b" not in html

    client.force_login(agent_b)
    config_b, _strings = page_data(client.get("/desk/"))
    assert config_b["me"]["id"] == agent_b.pk
    assert client.post("/desk/").status_code == 405


def test_viewers_read_and_administrators_act_on_every_conversation(client, viewer_a, admin_a):
    client.force_login(viewer_a)
    config, _strings = page_data(client.get("/desk/"))
    assert config["acts"] is False and config["admin"] is False
    client.force_login(admin_a)
    config, _strings = page_data(client.get("/desk/"))
    assert config["acts"] is True and config["admin"] is True


def test_staff_without_a_tenant_or_a_role_get_a_clear_refusal(client, superuser, tenant_a):
    client.force_login(superuser)
    response = client.get("/desk/", headers={"accept-language": "en"})
    assert response.status_code == 403
    assert "Platform administrators belong to no tenant" in response.content.decode()
    assert "desk-config" not in response.content.decode()

    roleless = make_user(tenant_a, "", "no-role")
    client.force_login(roleless)
    response = client.get("/desk/")
    assert response.status_code == 403
    with translation.override("zh-hans"):
        reason = gettext(
            "Your account has no support role. A tenant administrator can give you one."
        )
    assert reason in response.content.decode()

    Tenant.objects.filter(pk=tenant_a.pk).update(is_active=False)
    client.force_login(make_user(tenant_a, "agent", "agent-of-a-closed-tenant"))
    assert client.get("/desk/").status_code == 403


def test_the_admin_links_to_the_desk_for_tenant_staff(client, agent_a, superuser):
    client.force_login(agent_a)
    assert 'href="/desk/"' in client.get("/admin/").content.decode()
    client.force_login(superuser)
    assert 'href="/desk/"' not in client.get("/admin/").content.decode()


def test_the_page_has_no_inline_code_and_its_modules_resolve(client, agent_a):
    client.force_login(agent_a)
    page = parse(client.get("/desk/"))
    modules = [s["src"] for s in page.scripts if s.get("type") == "module"]
    assert modules == ["/static/dialogue/desk/main.js"]
    for script in DESK_SCRIPTS.glob("*.js"):
        for target in re.findall(r'^import .* from "(\.[^"]+)";$', script.read_text(), re.M):
            assert (script.parent / target).resolve().is_file(), f"{script.name} imports {target}"


def test_every_string_the_scripts_use_is_provided(client, agent_a):
    client.force_login(agent_a)
    _config, strings = page_data(client.get("/desk/"))
    used = set()
    for script in [*DESK_SCRIPTS.glob("*.js"), DESK_SCRIPTS.parent / "live" / "format.js"]:
        used |= set(re.findall(r"\b(?:t|strings)\.([a-z_]+)", script.read_text()))
    used |= {f"empty_{view}" for view in ("open", "mine", "all")}
    assert used and used <= set(strings), used - set(strings)
    assert all(isinstance(text, str) and text for text in strings.values())
