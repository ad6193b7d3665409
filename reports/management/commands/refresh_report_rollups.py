"""Compute the dashboard's daily rollups ahead of the first request (for cron, after midnight
or after an import): every active tenant, or one with --tenant."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import Tenant
from helpdesk.commands import active_tenant
from helpdesk.tenancy import tenant_scope
from reports.periods import MAX_DAYS
from reports.services import rollups_refresh_recent


class Command(BaseCommand):
    help = (
        "Compute the missing or stale daily rollups of the last --days complete days "
        "(default: as far back as the longest period and the one before it reach), for every "
        "active tenant or for --tenant <slug>. Days already computed and settled are skipped."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", help="Slug of the only tenant to refresh.")
        parser.add_argument(
            "--days", type=int, default=2 * MAX_DAYS, help="Days back from yesterday."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tenant"]:
            tenants = [active_tenant(options["tenant"])]
        else:
            tenants = list(Tenant.objects.filter(is_active=True).order_by("pk"))
        for tenant in tenants:
            with tenant_scope(tenant):
                refreshed = rollups_refresh_recent(days=max(options["days"], 0))
            self.stdout.write(f"{tenant.slug}: {len(refreshed)} days computed")
