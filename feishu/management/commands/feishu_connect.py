"""Receive a Feishu app's events over the long connection (no public callback URL needed).

    python manage.py feishu_connect cli_xxx

Runs until stopped, reconnecting on its own; run one per app, beside the web processes
and the task workers (see README, production).
"""

from django.core.management.base import BaseCommand, CommandError

from feishu import selectors
from feishu.longconn import LongConnection


class Command(BaseCommand):
    help = "Receive a Feishu app's events over the long connection."

    def add_arguments(self, parser) -> None:
        parser.add_argument("app_id", help="the app's id (cli_…), as connected in the admin")

    def handle(self, *args, app_id: str, **options) -> None:
        app = selectors.callback_app(app_id)
        if app is None:
            raise CommandError(f"No active Feishu app {app_id!r}.")
        self.stdout.write(f"Connecting {app.app_id} to {app.base_url} …")
        LongConnection(app).client().start()
