import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ValidationError
from django.db.models import Count

from helpdesk.tenancy import TenantScopeError, current_tenant, tenant_scope
from helpdesk.tests.tenancy_app.models import Folder, Note


@pytest.fixture
def rows(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        folder_a = Folder.objects.create(name="a")
        note_a = Note.objects.create(folder=folder_a, text="note a")
    with tenant_scope(tenant_b):
        folder_b = Folder.objects.create(name="b")
        note_b = Note.objects.create(folder=folder_b, text="note b")
    return {"folder_a": folder_a, "note_a": note_a, "folder_b": folder_b, "note_b": note_b}


@pytest.mark.django_db
class TestFailClosed:
    def test_query_without_scope_raises(self, rows):
        with pytest.raises(TenantScopeError):
            list(Note.objects.all())
        with pytest.raises(TenantScopeError):
            Note.objects.count()

    def test_none_is_not_a_scope(self):
        with pytest.raises(TenantScopeError), tenant_scope(None):
            pass

    def test_unsaved_tenant_is_not_a_scope(self):
        from accounts.models import Tenant

        with pytest.raises(TenantScopeError), tenant_scope(Tenant(name="x", slug="x")):
            pass

    def test_scope_ends_with_block(self, tenant_a):
        with tenant_scope(tenant_a):
            assert current_tenant() == tenant_a
        with pytest.raises(TenantScopeError):
            current_tenant()


@pytest.mark.django_db
class TestReads:
    def test_every_query_path_sees_only_the_active_tenant(self, rows, tenant_a, tenant_b):
        with tenant_scope(tenant_a):
            assert list(Note.objects.all()) == [rows["note_a"]]
            assert Note.objects.count() == 1
            assert list(Note.objects.values_list("text", flat=True)) == ["note a"]
            assert Note.objects.filter(text__startswith="note").count() == 1
            assert Note.objects.exclude(text="x").count() == 1
            assert Note.objects.aggregate(n=Count("id"))["n"] == 1
            assert list(Note.objects.filter(folder__name="b")) == []
            assert Note.objects.in_bulk([rows["note_a"].pk, rows["note_b"].pk]) == {
                rows["note_a"].pk: rows["note_a"]
            }
        with tenant_scope(tenant_b):
            assert list(Note.objects.all()) == [rows["note_b"]]

    def test_get_of_another_tenants_id_is_does_not_exist(self, rows, tenant_a):
        with tenant_scope(tenant_a), pytest.raises(Note.DoesNotExist):
            Note.objects.get(pk=rows["note_b"].pk)

    def test_related_managers_are_scoped(self, rows, tenant_a):
        with tenant_scope(tenant_a):
            assert list(rows["folder_a"].notes.all()) == [rows["note_a"]]
            # Even a folder object of tenant B loaded earlier cannot list its notes under A.
            assert list(rows["folder_b"].notes.all()) == []
            folders = list(Folder.objects.prefetch_related("notes"))
            assert [list(f.notes.all()) for f in folders] == [[rows["note_a"]]]
        with pytest.raises(TenantScopeError):
            list(rows["folder_a"].notes.all())

    def test_all_tenants_is_the_explicit_crossing(self, rows):
        assert Note.all_tenants.count() == 2


@pytest.mark.django_db
class TestWrites:
    def test_create_takes_tenant_from_scope(self, tenant_a):
        with tenant_scope(tenant_a):
            folder = Folder.objects.create(name="x")
        assert folder.tenant_id == tenant_a.pk

    def test_write_without_scope_raises(self, tenant_a):
        with pytest.raises(TenantScopeError):
            Folder(name="x", tenant=tenant_a).save()

    def test_saving_another_tenants_row_is_refused(self, rows, tenant_a):
        note_b = rows["note_b"]
        with tenant_scope(tenant_a):
            note_b.text = "hijacked"
            with pytest.raises(TenantScopeError):
                note_b.save()
            with pytest.raises(TenantScopeError):
                note_b.delete()
        note_b.refresh_from_db()
        assert note_b.text == "note b"

    def test_cross_tenant_link_is_refused(self, rows, tenant_a):
        with tenant_scope(tenant_a), pytest.raises(ValidationError) as excinfo:
            Note.objects.create(folder=rows["folder_b"], text="bad")
        assert "folder" in excinfo.value.message_dict
        assert Note.all_tenants.filter(text="bad").count() == 0

    def test_cross_tenant_link_by_id_is_refused(self, rows, tenant_a):
        with tenant_scope(tenant_a), pytest.raises(ValidationError):
            Note.objects.create(folder_id=rows["folder_b"].pk, text="bad")

    def test_link_to_user_of_another_tenant_is_refused(self, rows, tenant_a, agent_b, agent_a):
        with tenant_scope(tenant_a):
            Note.objects.create(folder=rows["folder_a"], owner=agent_a, text="ok")
            with pytest.raises(ValidationError):
                Note.objects.create(folder=rows["folder_a"], owner=agent_b, text="bad")

    def test_queryset_update_and_delete_stay_in_scope(self, rows, tenant_a):
        with tenant_scope(tenant_a):
            assert Note.objects.update(text="changed") == 1
            deleted, _ = Note.objects.filter(text="changed").delete()
            assert deleted == 1
        assert Note.all_tenants.get(pk=rows["note_b"].pk).text == "note b"

    def test_moving_rows_between_tenants_is_refused(self, rows, tenant_a, tenant_b):
        with tenant_scope(tenant_a), pytest.raises(TenantScopeError):
            Note.objects.update(tenant=tenant_b)

    def test_bulk_create_sets_and_checks_tenant(self, rows, tenant_a, tenant_b):
        with tenant_scope(tenant_a):
            created = Folder.objects.bulk_create([Folder(name="x"), Folder(name="y")])
            assert {f.tenant_id for f in created} == {tenant_a.pk}
            with pytest.raises(TenantScopeError):
                Folder.objects.bulk_create([Folder(name="z", tenant=tenant_b)])
            with pytest.raises(ValidationError):
                Note.objects.bulk_create([Note(folder=rows["folder_b"], text="bad")])

    def test_bulk_update_refuses_tenant_and_foreign_links(self, rows, tenant_a):
        note_a = rows["note_a"]
        with tenant_scope(tenant_a):
            note_a.folder = rows["folder_b"]
            with pytest.raises(ValidationError):
                Note.objects.bulk_update([note_a], ["folder"])
            with pytest.raises(TenantScopeError):
                Note.objects.bulk_update([note_a], ["tenant"])


@pytest.fixture
def close_worker_connections():
    """Connections opened in asgiref's shared worker thread must not outlive the test."""
    yield
    from django.db import connections

    asyncio.run(sync_to_async(connections.close_all)())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_worker_connections")
class TestScopePropagation:
    def test_scope_follows_async_code_and_threads(self, rows, tenant_a):
        async def count_in_task() -> int:
            return await sync_to_async(Note.objects.count)()

        with tenant_scope(tenant_a):
            assert asyncio.run(count_in_task()) == 1

    def test_concurrent_scopes_do_not_leak(self, rows, tenant_a, tenant_b):
        async def texts(tenant) -> list[str]:
            with tenant_scope(tenant):
                await asyncio.sleep(0.01)
                return await sync_to_async(
                    lambda: list(Note.objects.values_list("text", flat=True))
                )()

        async def both():
            return await asyncio.gather(texts(tenant_a), texts(tenant_b))

        assert asyncio.run(both()) == [["note a"], ["note b"]]
