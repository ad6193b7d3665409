"""Start the periodic alert evaluation chain (run by a django_tasks_db worker)."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from alerts.tasks import alerts_tick, scheduler_start


class Command(BaseCommand):
    help = (
        "Enqueue the self-rescheduling alert evaluation task. Safe to run from every deploy "
        "or from cron: it does nothing while a chain is alive; --force replaces it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="Replace the running chain with a new one."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not alerts_tick.get_backend().supports_defer:
            raise CommandError(
                "The task backend cannot run deferred tasks; use django_tasks_db.DatabaseBackend "
                "and run `manage.py db_worker`, or call `manage.py evaluate_alerts` from cron."
            )
        started, token = scheduler_start(force=options["force"])
        if started:
            self.stdout.write(self.style.SUCCESS(f"Alert scheduler started (chain {token[:8]})."))
        else:
            self.stdout.write(f"Alert scheduler already running (chain {token[:8]}).")
