"""The tenant scope is set at each entry point: Channels, tasks and commands."""

import io

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.core.management import CommandError, call_command
from django.tasks import task
from django.urls import path

from helpdesk.channels_middleware import TenantScopeMiddleware
from helpdesk.commands import TenantCommand
from helpdesk.tasks import tenant_task
from helpdesk.tenancy import TenantScopeError, tenant_scope
from helpdesk.tests.tenancy_app.models import Folder, Note


class NoteCountConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        try:
            texts = await database_sync_to_async(
                lambda: sorted(Note.objects.values_list("text", flat=True))
            )()
        except TenantScopeError:
            texts = None
        await self.send_json({"texts": texts})


application = AuthMiddlewareStack(
    TenantScopeMiddleware(URLRouter([path("ws/notes/", NoteCountConsumer.as_asgi())]))
)


@pytest.fixture
def notes(tenant_a, tenant_b):
    for tenant, text in ((tenant_a, "note-a"), (tenant_b, "note-b")):
        with tenant_scope(tenant):
            Note.objects.create(folder=Folder.objects.create(name=text), text=text)


async def texts_seen(scope_extra: dict) -> list | None:
    communicator = WebsocketCommunicator(application, "/ws/notes/")
    communicator.scope.update(scope_extra)
    connected, _ = await communicator.connect()
    assert connected
    message = await communicator.receive_json_from()
    await communicator.disconnect()
    return message["texts"]


@pytest.fixture
async def close_worker_connections():
    """Database connections opened in asgiref's worker thread must not outlive the test."""
    yield
    from django.db import connections

    await database_sync_to_async(connections.close_all)()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_worker_connections")
class TestChannelsMiddleware:
    async def test_user_scope(self, notes, agent_a, agent_b):
        assert await texts_seen({"user": agent_a}) == ["note-a"]
        assert await texts_seen({"user": agent_b}) == ["note-b"]

    async def test_explicit_tenant_in_scope(self, notes, tenant_b):
        assert await texts_seen({"tenant": tenant_b}) == ["note-b"]

    async def test_no_tenant_fails_closed(self, notes, superuser):
        assert await texts_seen({"user": superuser}) is None


@task()
@tenant_task
def add_note(*, tenant_id: int, folder_name: str, text: str) -> int:
    folder = Folder.objects.create(name=folder_name)
    return Note.objects.create(folder=folder, text=text).pk


@pytest.mark.django_db
class TestTasks:
    def test_task_runs_in_its_tenants_scope(self, tenant_a, tenant_b):
        result = add_note.enqueue(tenant_id=tenant_b.pk, folder_name="f", text="from task")
        note = Note.all_tenants.get(pk=result.return_value)
        assert note.tenant_id == tenant_b.pk

    def test_task_without_tenant_fails(self, db):
        result = add_note.enqueue(folder_name="f", text="x")
        assert result.status == "FAILED"
        assert not Note.all_tenants.exists()

    def test_task_of_inactive_tenant_fails(self, tenant_a):
        tenant_a.is_active = False
        tenant_a.save()
        result = add_note.enqueue(tenant_id=tenant_a.pk, folder_name="f", text="x")
        assert result.status == "FAILED"


class CountNotes(TenantCommand):
    def handle_tenant(self, tenant, *args, **options) -> None:
        self.stdout.write(f"{tenant.slug}:{Note.objects.count()}")


@pytest.mark.django_db
class TestTenantCommand:
    def test_runs_in_the_named_tenant(self, notes, tenant_a):
        out = io.StringIO()
        call_command(CountNotes(), tenant=tenant_a.slug, stdout=out)
        assert out.getvalue().strip() == "tenant-a:1"

    def test_unknown_or_inactive_tenant(self, notes, tenant_b):
        with pytest.raises(CommandError, match="No tenant"):
            call_command(CountNotes(), tenant="nope")
        tenant_b.is_active = False
        tenant_b.save()
        with pytest.raises(CommandError, match="inactive"):
            call_command(CountNotes(), tenant=tenant_b.slug)
