from django.core.management.base import BaseCommand

from knowledge.import_jobs import import_files_prune


class Command(BaseCommand):
    help = (
        "Delete the uploaded files of finished knowledge imports, and of failed ones older "
        "than imports.failed_file_retention_days (or --days). Run it daily from cron."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None, help="keep failed jobs' files N days")

    def handle(self, *args, days: int | None = None, **options) -> None:
        count = import_files_prune(older_than_days=days)
        self.stdout.write(f"Deleted {count} uploaded file(s).")
