"""manage.py embed_knowledge: embed a tenant's (or every tenant's) missing and stale texts now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import Tenant
from helpdesk.commands import active_tenant
from helpdesk.tenancy import tenant_scope
from knowledge.embedding import tenant_embed
from llm.embeddings import EmbeddingSettings


class Command(BaseCommand):
    help = (
        "Embed the knowledge entries and similar questions that have no vector of the "
        "configured model (after a model change, or for entries made before semantic search)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", help="Only this tenant (default: every active tenant).")

    def handle(self, *args: Any, **options: Any) -> None:
        if not EmbeddingSettings.load().configured:
            self.stderr.write("No embeddings service is configured (embeddings.base_url).")
            return
        if options["tenant"]:
            tenants = [active_tenant(options["tenant"])]
        else:
            tenants = list(Tenant.objects.filter(is_active=True).order_by("pk"))
        for tenant in tenants:
            with tenant_scope(tenant):
                run = tenant_embed()
            self.stdout.write(
                f"{tenant.slug}: {run.embedded} embedded, {run.deleted} removed "
                f"in {run.seconds:.1f} s"
            )
