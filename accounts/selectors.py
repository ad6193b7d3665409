"""Account reads: the API tokens a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, User, credential_fingerprint
from helpdesk.roles import Role


def tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    """Tokens that still authenticate (unexpired, issued under the owner's current
    password): a tenant admin's tenant's, anyone else's own."""
    tokens = ApiToken.objects.valid().select_related("user").order_by("-created_at", "-id")
    if user.tenant_id is not None and user.has_role(Role.TENANT_ADMIN):
        # The fingerprint is a digest of each owner's password hash: compared here.
        tenants = tokens.filter(user__tenant_id=user.tenant_id).only(
            "credential_fingerprint", "user__password"
        )
        live = [t.pk for t in tenants if t.credential_fingerprint == credential_fingerprint(t.user)]
        return tokens.filter(pk__in=live)
    return tokens.filter(user=user, credential_fingerprint=credential_fingerprint(user))
