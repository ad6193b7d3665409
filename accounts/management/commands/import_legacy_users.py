from pathlib import Path

from django.core.management.base import CommandError

from accounts.services import read_legacy_export, users_import_legacy
from helpdesk.commands import TenantCommand


class Command(TenantCommand):
    help = (
        "Import users from the old system's CSV or JSON export (columns username, email, name, "
        "role, password_hash) into a tenant. Their old passwords keep working and are re-hashed "
        "with bcrypt at the first login. Nothing is imported if any row is bad."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("path", type=Path, help="CSV or JSON export file.")

    def handle_tenant(self, tenant, *args, **options) -> None:
        path: Path = options["path"]
        if not path.is_file():
            raise CommandError(f"File not found: {path}")
        try:
            rows = read_legacy_export(path)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        result = users_import_legacy(tenant=tenant, rows=rows)
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(result.errors)} bad row(s); nothing was imported.")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {len(result.created)} user(s) into {tenant.slug}.")
        )
