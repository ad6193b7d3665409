"""The management commands: Bitable syncs that are due, and the long connection's lookup."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from feishu.bitable.services import bitable_sync_create
from feishu.models import BitableSync, BitableSyncRun
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


def test_only_due_syncs_run_and_each_tenant_in_its_own_scope(
    app_a, app_b, stub, tenant_a, tenant_b, capsys
):
    stub.state.fill_table("bascnA", "tblA", 2)
    stub.state.fill_table("bascnB", "tblB", 3)
    with tenant_scope(tenant_a):
        due = bitable_sync_create(app=app_a, name="A", app_token="bascnA", table_id="tblA")
    with tenant_scope(tenant_b):
        fresh = bitable_sync_create(app=app_b, name="B", app_token="bascnB", table_id="tblB")
        BitableSync.objects.filter(pk=fresh.pk).update(last_pull_at=timezone.now())
    call_command("feishu_bitable_sync")
    assert "tenant-a: A enqueued" in capsys.readouterr().out
    with tenant_scope(tenant_a):
        assert BitableSyncRun.objects.get(sync=due, kind="pull").created == 2
        assert BitableSyncRun.objects.filter(sync=due, kind="push").exists()
    with tenant_scope(tenant_b):
        assert not BitableSyncRun.objects.exists()
        BitableSync.objects.filter(pk=fresh.pk).update(
            last_pull_at=timezone.now() - timedelta(minutes=20)
        )
    call_command("feishu_bitable_sync", "--tenant", "tenant-b")
    with tenant_scope(tenant_b):
        assert BitableSyncRun.objects.get(kind="pull").created == 3


def test_feishu_connect_needs_a_known_active_app(app_a, tenant_a):
    with pytest.raises(CommandError, match="cli_nobody"):
        call_command("feishu_connect", "cli_nobody")
    with tenant_scope(tenant_a):
        app_a.is_active = False
        app_a.save()
    with pytest.raises(CommandError):
        call_command("feishu_connect", "cli_a")
