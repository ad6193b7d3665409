"""Management commands that work on one tenant's data: the base class and its lookup."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from helpdesk.tenancy import tenant_model, tenant_scope


def active_tenant(slug: str):
    """The active tenant with this slug, or a CommandError that says what is wrong."""
    tenant = tenant_model().objects.filter(slug=slug).first()
    if tenant is None:
        raise CommandError(f"No tenant with slug {slug!r}.")
    if not tenant.is_active:
        raise CommandError(f"Tenant {tenant.slug!r} is inactive.")
    return tenant


class TenantCommand(BaseCommand):
    """Adds `--tenant <slug>` and runs `handle_tenant` inside that tenant's scope."""

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", required=True, help="Slug of the tenant to work on.")

    def handle(self, *args: Any, **options: Any) -> str | None:
        tenant = active_tenant(options.pop("tenant"))
        with tenant_scope(tenant):
            return self.handle_tenant(tenant, *args, **options)

    def handle_tenant(self, tenant, *args: Any, **options: Any) -> str | None:
        raise NotImplementedError
