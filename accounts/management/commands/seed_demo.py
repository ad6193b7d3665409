"""Create the demo tenants, their users and each app's demo data (idempotent)."""

import importlib
import os
import secrets

from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

from accounts.models import Tenant, User
from accounts.services import tenant_create
from helpdesk.roles import Role
from helpdesk.tenancy import tenant_scope

DEMO_APPS = ["knowledge", "workorders", "alerts", "dialogue"]
DEMO_TENANTS = [("demo", "演示科技有限公司"), ("acme", "Acme 汽车服务")]


class Command(BaseCommand):
    help = (
        "Create the demo tenants with an admin user and load demo data. The admin password is "
        "taken from HELPDESK_DEMO_PASSWORD or generated and printed once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--base-url",
            default="",
            help="Where the demo is served (e.g. http://127.0.0.1:8000), for the web chat links.",
        )

    def handle(self, *args, **options) -> None:
        base_url = options["base_url"].rstrip("/")
        for slug, name in DEMO_TENANTS:
            tenant = Tenant.objects.filter(slug=slug).first() or tenant_create(name=name, slug=slug)
            username = f"{slug}-admin" if slug != "demo" else "admin"
            self._ensure_admin(tenant, username)
            with transaction.atomic(), tenant_scope(tenant):
                for app in DEMO_APPS:
                    self._seed_app(app, tenant)
            chat = reverse("widget:page", kwargs={"widget_key": tenant.widget_key})
            self.stdout.write(f"{slug}: web chat {base_url}{chat}")

    def _ensure_admin(self, tenant: Tenant, username: str) -> None:
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"User {username} exists; its password is unchanged.")
            return
        password = os.environ.get("HELPDESK_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        User.objects.create_user(
            username=username,
            password=password,
            tenant=tenant,
            role=Role.TENANT_ADMIN,
            is_staff=True,
        )
        shown = (
            "(from HELPDESK_DEMO_PASSWORD)" if "HELPDESK_DEMO_PASSWORD" in os.environ else password
        )
        self.stdout.write(
            self.style.SUCCESS(f"Created {tenant.slug} admin: username {username} password {shown}")
        )

    def _seed_app(self, app: str, tenant: Tenant) -> None:
        try:
            module = importlib.import_module(f"{app}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
            return
        summary = module.seed(tenant)
        if summary:
            self.stdout.write(f"{tenant.slug}: {summary}")
