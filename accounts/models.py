"""Tenants, users and API tokens.

Users and tokens are read before any tenant scope exists (that is how the scope
is found), so they are not TenantOwnedModels; every admin page and API that
lists users filters them by the caller's tenant explicitly.
"""

import hashlib
import re
import secrets
import zoneinfo
from datetime import timedelta

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.roles import ROLE_RANK, Role

DEFAULT_TIME_ZONE = "Asia/Shanghai"


def new_widget_key() -> str:
    return secrets.token_urlsafe(24)


def validate_time_zone(name: str) -> None:
    if name not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(name)s is not a known time zone (e.g. Asia/Shanghai)."),
            code="invalid_time_zone",
            params={"name": name},
        )


# A CSP host source: a scheme, a host (optionally "*." and a port), nothing else.
_FRAME_ANCESTOR = re.compile(r"^https?://(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$")


def validate_frame_ancestors(value: str) -> None:
    bad = [line for line in value.split() if not _FRAME_ANCESTOR.match(line.lower())]
    if bad:
        raise ValidationError(
            _("Not an origin such as https://www.example.com: %(bad)s") % {"bad": ", ".join(bad)}
        )


class Tenant(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    widget_key = models.CharField(
        _("widget key"),
        max_length=64,
        unique=True,
        default=new_widget_key,
        help_text=_("Public key that the web chat widget sends to identify the tenant."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("IANA name, e.g. Asia/Shanghai: the days of the dashboard and reports."),
    )
    widget_frame_ancestors = models.TextField(
        _("sites that may embed the web chat"),
        blank=True,
        validators=[validate_frame_ancestors],
        help_text=_(
            "Origins allowed to show the web chat page in a frame, one per line, e.g. "
            "https://www.example.com or https://*.example.com. Empty: only this site."
        ),
    )
    identity_secret = models.CharField(
        _("visitor identity secret"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_(
            "Signs the tenant's own customer ids for the web chat (an HMAC-SHA256 of the id); "
            "empty: only anonymous visitor ids are accepted."
        ),
    )
    settings = models.JSONField(
        _("settings"),
        default=dict,
        blank=True,
        help_text=_("Per-tenant overrides such as the assistant's system prompt."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The tenant's time zone (the default one if the stored name is unknown here)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE)

    def frame_ancestors(self) -> list[str]:
        """The web chat page's CSP frame-ancestors sources."""
        return ["'self'", *self.widget_frame_ancestors.lower().split()]

    def embeds_on(self, origin: str) -> bool:
        """Whether `origin` (scheme://host[:port]) is one of the listed sites, matched as
        CSP matches them: `https://*.example.com` covers every subdomain."""
        origin = origin.lower()
        for source in self.widget_frame_ancestors.lower().split():
            scheme, _sep, host = source.partition("://")
            if host.startswith("*."):
                if origin.startswith(f"{scheme}://") and origin.endswith(host[1:]):
                    return True
            elif origin == source:
                return True
        return False


class User(AbstractUser):
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("tenant"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(is_superuser=True, tenant__isnull=True))
                | models.Q(is_superuser=False, tenant__isnull=False),
                name="user_superuser_xor_tenant",
                violation_error_message=_(
                    "Platform superusers belong to no tenant; every other user belongs to one."
                ),
            )
        ]

    def has_role(self, role: str) -> bool:
        """True when the user's role is `role` or a stronger one."""
        return (
            self.is_active
            and self.tenant_id is not None
            and ROLE_RANK.get(self.role, 0) >= ROLE_RANK[Role(role)]
        )


def hash_token_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def credential_fingerprint(user: User) -> str:
    """Changes whenever the user's password does: a token issued under another password
    no longer authenticates, whichever way the password was changed."""
    return hashlib.sha256(f"api-token:{user.password}".encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """An API token; only its SHA-256 digest is stored, the key is shown once."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("prefix"), max_length=8, editable=False)
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    credential_fingerprint = models.CharField(max_length=64, editable=False, default="")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"

    @classmethod
    def issue(cls, *, user: User, max_age: timedelta, name: str = "") -> tuple["ApiToken", str]:
        key = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            digest=hash_token_key(key),
            prefix=key[:8],
            name=name,
            expires_at=timezone.now() + max_age,
            credential_fingerprint=credential_fingerprint(user),
        )
        return token, key
