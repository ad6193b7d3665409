"""Base class of management commands that work on one tenant's data."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from helpdesk.tenancy import tenant_scope


class TenantCommand(BaseCommand):
    """Adds `--tenant <slug>` and runs `handle_tenant` inside that tenant's scope."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", required=True, help="Slug of the tenant to work on.")

    def handle(self, *args: Any, **options: Any) -> str | None:
        from accounts.models import Tenant

        slug = options.pop("tenant")
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {slug!r}.")
        if not tenant.is_active:
            raise CommandError(f"Tenant {tenant.slug!r} is inactive.")
        with tenant_scope(tenant):
            return self.handle_tenant(tenant, *args, **options)

    def handle_tenant(self, tenant, *args: Any, **options: Any) -> str | None:
        raise NotImplementedError
