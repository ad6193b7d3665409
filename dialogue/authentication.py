"""Web-chat visitors: a signed token from the tenant's public widget key and a visitor id.

The token is `django.core.signing` output (no database row), so every process can
check it. A visitor is a principal with `.tenant`, which the tenant base view makes
the active scope; it is never a staff user and reaches only its own web sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from accounts.models import Tenant
from helpdesk.config import get_config

SALT = "dialogue.visitor-token"
KEYWORD = "Visitor"


@dataclass(frozen=True)
class Visitor:
    tenant: Tenant
    visitor_id: str

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    @property
    def tenant_id(self) -> int:
        return self.tenant.pk

    @property
    def pk(self) -> str:
        """Distinct per visitor, so per-user throttles never lump visitors together."""
        return f"visitor:{self.tenant.pk}:{self.visitor_id}"

    def has_role(self, role: str) -> bool:
        return False


def issue_visitor_token(*, tenant: Tenant, visitor_id: str) -> str:
    return signing.dumps({"t": tenant.pk, "v": visitor_id}, salt=SALT, compress=True)


def visitor_token_claims(token: str) -> tuple[int, str]:
    """(tenant id, visitor id) of a valid token; the tenant is not looked up."""
    max_age = get_config().get("dialogue.visitor_token_max_age_seconds")
    try:
        data: Any = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise exceptions.AuthenticationFailed(_("The visitor token has expired.")) from None
    except signing.BadSignature:
        raise exceptions.AuthenticationFailed(_("Invalid visitor token.")) from None
    if not isinstance(data, dict) or type(data.get("t")) is not int:
        raise exceptions.AuthenticationFailed(_("Invalid visitor token."))
    if not isinstance(data.get("v"), str):
        raise exceptions.AuthenticationFailed(_("Invalid visitor token."))
    return data["t"], data["v"]


def read_visitor_token(token: str) -> Visitor:
    tenant_id, visitor_id = visitor_token_claims(token)
    tenant = Tenant.objects.filter(pk=tenant_id, is_active=True).first()
    if tenant is None:
        raise exceptions.AuthenticationFailed(_("Invalid visitor token."))
    return Visitor(tenant=tenant, visitor_id=visitor_id)


def visitor_token_in(authorization: bytes) -> str | None:
    """The token of an `Authorization: Visitor <token>` header; None for other schemes."""
    auth = authorization.split()
    if not auth or auth[0].lower() != KEYWORD.lower().encode():
        return None
    if len(auth) != 2:
        raise exceptions.AuthenticationFailed(_("Invalid visitor token header."))
    try:
        return auth[1].decode()
    except UnicodeError:
        raise exceptions.AuthenticationFailed(_("Invalid visitor token header.")) from None


class VisitorTokenAuthentication(BaseAuthentication):
    """`Authorization: Visitor <token>` from POST /api/v1/chat/visitor-token/."""

    def authenticate(self, request) -> tuple[Visitor, str] | None:
        token = visitor_token_in(get_authorization_header(request))
        return None if token is None else (read_visitor_token(token), token)

    def authenticate_header(self, request) -> str:
        return KEYWORD


class VisitorTokenScheme(OpenApiAuthenticationExtension):
    target_class = "dialogue.authentication.VisitorTokenAuthentication"
    name = "visitorToken"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Web-chat visitor: "Visitor <token>" from /api/v1/chat/visitor-token/.',
        }
