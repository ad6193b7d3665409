"""Evaluate the alert rules once (for cron): every active tenant, or one with --tenant."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from alerts.evaluation import alerts_evaluate_all, alerts_evaluate_tenant, summarise
from helpdesk.commands import active_tenant
from helpdesk.config import get_config


class Command(BaseCommand):
    help = "Evaluate the alert rules once, for every active tenant or for --tenant <slug>."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", help="Slug of the only tenant to evaluate.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not get_config().get("alerts.enabled"):
            self.stdout.write("Alert evaluation is disabled (alerts.enabled is false).")
            return
        if options["tenant"]:
            tenant = active_tenant(options["tenant"])
            report = {tenant.slug: alerts_evaluate_tenant(tenant=tenant)}
        else:
            report = alerts_evaluate_all()
        for tenant_slug, results in report.items():
            counts = ", ".join(f"{k}={v}" for k, v in sorted(summarise(results).items()))
            self.stdout.write(f"{tenant_slug}: {len(results)} rules ({counts or 'none'})")
