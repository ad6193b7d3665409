"""Account writes: sessions and tokens, legacy user import."""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from accounts.hashers import LegacySHA256PasswordHasher
from accounts.models import ApiToken, Tenant, User
from helpdesk.config import get_config
from helpdesk.roles import Role
from helpdesk.tenancy import tenant_scope

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
LEGACY_ROLE_MAP = {
    "admin": Role.TENANT_ADMIN,
    "administrator": Role.TENANT_ADMIN,
    "tenant_admin": Role.TENANT_ADMIN,
    "管理员": Role.TENANT_ADMIN,
    "agent": Role.AGENT,
    "operator": Role.AGENT,
    "staff": Role.AGENT,
    "客服": Role.AGENT,
    "viewer": Role.VIEWER,
    "readonly": Role.VIEWER,
    "guest": Role.VIEWER,
    "访客": Role.VIEWER,
}


# Roles that work in the admin (imported legacy users get is_staff from their role).
STAFF_ROLES = {Role.TENANT_ADMIN, Role.AGENT}


def tenant_initialise(*, tenant: Tenant) -> None:
    """Run every HELPDESK_TENANT_INITIALISERS function (default rules and the like)."""
    with tenant_scope(tenant):
        for path in settings.HELPDESK_TENANT_INITIALISERS:
            import_string(path)(tenant=tenant)


IDENTITY_SECRET_MIN_CHARS = 32


def tenant_identity_secret_set(*, tenant: Tenant, secret: str) -> None:
    """The secret the tenant's server signs its own visitor ids with ("" turns signing
    off). The tenant chooses it; it is never shown back."""
    if secret and len(secret) < IDENTITY_SECRET_MIN_CHARS:
        raise ValidationError(
            {
                "identity_secret": _("Use at least %(n)d random characters.")
                % {"n": IDENTITY_SECRET_MIN_CHARS}
            }
        )
    Tenant.objects.filter(pk=tenant.pk).update(identity_secret=secret)
    tenant.identity_secret = secret


def tenant_create(*, name: str, slug: str, settings_: dict | None = None) -> Tenant:
    with transaction.atomic():
        tenant = Tenant.objects.create(name=name, slug=slug, settings=settings_ or {})
        tenant_initialise(tenant=tenant)
    return tenant


def auth_login(*, request, username: str, password: str) -> tuple[User, str] | None:
    """Authenticate and issue an API token; None when the credentials are wrong."""
    user = authenticate(request, username=username, password=password)
    if user is None or (user.tenant_id and not user.tenant.is_active):
        return None
    max_age = timedelta(days=get_config().get("security.api_token_max_age_days"))
    _token, key = ApiToken.issue(user=user, max_age=max_age, name="login")
    return user, key


def auth_logout(*, token: ApiToken | None) -> None:
    if isinstance(token, ApiToken):
        token.delete()


def api_tokens_revoke(*, user: User, token_ids: list[int] | None = None) -> int:
    """Delete the user's tokens (those of `token_ids` only, when given); the count."""
    tokens = ApiToken.objects.filter(user=user)
    if token_ids is not None:
        tokens = tokens.filter(pk__in=token_ids)
    with transaction.atomic():
        deleted, _by_model = tokens.delete()
    return deleted


@dataclass
class LegacyImportResult:
    created: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def read_legacy_export(path: Path) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        rows = data.get("users", data) if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise ValueError(_("The JSON export must be a list of users."))
        return [{str(k): "" if v is None else str(v) for k, v in row.items()} for row in rows]
    return list(csv.DictReader(io.StringIO(text)))


def _legacy_row_errors(row: dict[str, str], seen: set[str]) -> list[str]:
    errors = []
    username = (row.get("username") or "").strip()
    if not username:
        errors.append(_("username is missing"))
    elif username.lower() in seen:
        errors.append(_("username %(name)s appears twice") % {"name": username})
    elif User.objects.filter(username__iexact=username).exists():
        errors.append(_("username %(name)s already exists") % {"name": username})
    if not _HEX64.match((row.get("password_hash") or "").strip()):
        errors.append(_("password_hash is not a 64-character hex SHA-256 digest"))
    role = (row.get("role") or "agent").strip().lower()
    if role not in LEGACY_ROLE_MAP:
        errors.append(_("unknown role %(role)s") % {"role": role})
    return errors


def users_import_legacy(*, tenant: Tenant, rows: list[dict[str, str]]) -> LegacyImportResult:
    """Create users with their legacy hashes; all rows or none."""
    result = LegacyImportResult()
    seen: set[str] = set()
    users = []
    hasher = LegacySHA256PasswordHasher()
    for line, row in enumerate(rows, start=1):
        errors = _legacy_row_errors(row, seen)
        if errors:
            result.errors.append(
                _("row %(line)d: %(errors)s") % {"line": line, "errors": "; ".join(errors)}
            )
            continue
        username = row["username"].strip()
        seen.add(username.lower())
        first_name, _sep, last_name = (row.get("name") or "").strip().partition(" ")
        users.append(
            User(
                username=username,
                email=(row.get("email") or "").strip(),
                first_name=first_name[:150],
                last_name=last_name[:150],
                tenant=tenant,
                role=(role := LEGACY_ROLE_MAP[(row.get("role") or "agent").strip().lower()]),
                # The admin is for people who handle work: viewers read through the API.
                is_staff=role in STAFF_ROLES,
                password=hasher.encode_digest(row["password_hash"].strip()),
            )
        )
    if result.errors:
        return result
    with transaction.atomic():
        User.objects.bulk_create(users)
    result.created = [u.username for u in users]
    return result
