"""Sync the Bitable tables that are due (for cron), or one tenant's tables now.

python manage.py feishu_bitable_sync            # every tenant, tables whose interval passed
python manage.py feishu_bitable_sync --tenant demo --all [--full]
"""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from feishu import selectors
from feishu.models import BitableSync
from feishu.tasks import bitable_sync
from helpdesk.commands import active_tenant
from helpdesk.tenancy import tenant_model, tenant_scope


class Command(BaseCommand):
    help = "Enqueue the Bitable syncs that are due (every tenant), or all of one tenant's."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", help="Slug of the only tenant to sync.")
        parser.add_argument("--all", action="store_true", help="Every table, due or not.")
        parser.add_argument("--full", action="store_true", help="Read whole tables again.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tenant"]:
            tenants = [active_tenant(options["tenant"])]
        else:
            tenants = list(tenant_model().objects.filter(is_active=True))
        for tenant in tenants:
            with tenant_scope(tenant):
                syncs = (
                    list(BitableSync.objects.filter(enabled=True))
                    if options["all"]
                    else selectors.bitable_syncs_due(now=timezone.now())
                )
                for sync in syncs:
                    bitable_sync.enqueue(tenant_id=tenant.pk, sync_id=sync.pk, full=options["full"])
                    self.stdout.write(f"{tenant.slug}: {sync.name} enqueued")
