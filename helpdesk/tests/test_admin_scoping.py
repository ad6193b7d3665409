"""The admin with two tenants: staff see their own rows only; superusers see all."""

import pytest
from django.test import Client

from conftest import make_user
from helpdesk.tenancy import tenant_scope
from helpdesk.tests.tenancy_app.models import Folder, Note

NOTES = "/admin/tenancy_app/note/"


@pytest.fixture
def notes(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        folder_a = Folder.objects.create(name="folder-a")
        note_a = Note.objects.create(folder=folder_a, text="secret-of-a")
    with tenant_scope(tenant_b):
        folder_b = Folder.objects.create(name="folder-b")
        note_b = Note.objects.create(folder=folder_b, text="secret-of-b")
    return {"a": note_a, "b": note_b, "folder_a": folder_a, "folder_b": folder_b}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestTenantStaff:
    def test_changelist_shows_only_own_rows(self, agent_a, notes):
        page = client_for(agent_a).get(NOTES).content.decode()
        assert "secret-of-a" in page
        assert "secret-of-b" not in page

    def test_other_tenants_change_page_is_not_reachable(self, agent_a, notes):
        response = client_for(agent_a).get(f"{NOTES}{notes['b'].pk}/change/")
        assert response.status_code in (302, 404)
        assert b"secret-of-b" not in response.content

    def test_form_choices_are_scoped(self, agent_a, notes):
        page = client_for(agent_a).get(f"{NOTES}add/").content.decode()
        assert "folder-a" in page
        assert "folder-b" not in page

    def test_posting_a_foreign_folder_is_refused(self, agent_a, notes):
        response = client_for(agent_a).post(
            f"{NOTES}add/", {"folder": notes["folder_b"].pk, "text": "sneaky"}
        )
        assert response.status_code == 200
        assert not Note.all_tenants.filter(text="sneaky").exists()

    def test_agent_adds_in_own_tenant(self, agent_a, notes, tenant_a):
        client_for(agent_a).post(f"{NOTES}add/", {"folder": notes["folder_a"].pk, "text": "new"})
        assert Note.all_tenants.get(text="new").tenant_id == tenant_a.pk

    def test_roles_decide_permissions(self, viewer_a, agent_a, admin_a, notes):
        note_url = f"{NOTES}{notes['a'].pk}/"
        assert client_for(viewer_a).get(NOTES).status_code == 200
        assert client_for(viewer_a).get(f"{NOTES}add/").status_code == 403
        assert client_for(agent_a).get(f"{note_url}delete/").status_code == 403
        assert client_for(admin_a).get(f"{note_url}delete/").status_code == 200

    def test_non_staff_user_is_sent_to_login(self, tenant_a, notes):
        user = make_user(tenant_a, "agent", "not-staff")
        user.is_staff = False
        user.save()
        assert client_for(user).get(NOTES).status_code == 302


@pytest.mark.django_db
class TestSuperuser:
    def test_sees_all_tenants_with_tenant_column(self, superuser, notes, tenant_a, tenant_b):
        page = client_for(superuser).get(NOTES).content.decode()
        assert "secret-of-a" in page and "secret-of-b" in page
        assert "column-tenant" in page
        filtered = client_for(superuser).get(NOTES, {"tenant__id__exact": tenant_b.pk})
        assert "secret-of-a" not in filtered.content.decode()

    def test_changes_a_row_inside_its_tenant(self, superuser, notes):
        url = f"{NOTES}{notes['b'].pk}/change/"
        client = client_for(superuser)
        assert client.get(url).status_code == 200
        response = client.post(url, {"folder": notes["folder_b"].pk, "text": "edited"})
        assert response.status_code == 302
        assert Note.all_tenants.get(pk=notes["b"].pk).text == "edited"

    def test_cannot_move_a_row_to_another_tenants_folder(self, superuser, notes):
        url = f"{NOTES}{notes['b'].pk}/change/"
        client_for(superuser).post(url, {"folder": notes["folder_a"].pk, "text": "moved"})
        assert Note.all_tenants.get(pk=notes["b"].pk).folder_id == notes["folder_b"].pk

    def test_does_not_add_tenant_rows(self, superuser, notes):
        assert client_for(superuser).get(f"{NOTES}add/").status_code == 403


@pytest.mark.django_db
class TestUserAdmin:
    def test_tenant_admin_sees_only_own_users(self, admin_a, agent_a, agent_b):
        page = client_for(admin_a).get("/admin/accounts/user/").content.decode()
        assert "agent-a" in page
        assert "agent-b" not in page
        response = client_for(admin_a).get(f"/admin/accounts/user/{agent_b.pk}/change/")
        assert response.status_code in (302, 404)

    def test_agents_do_not_manage_users(self, agent_a):
        assert client_for(agent_a).get("/admin/accounts/user/").status_code == 403

    def test_admin_is_in_chinese_by_default(self, agent_a):
        page = client_for(agent_a).get("/admin/").content.decode()
        assert 'lang="zh-hans"' in page


@pytest.mark.django_db
def test_login_page_for_anonymous_visitors():
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert "helpdesk/admin.css" in response.content.decode()
