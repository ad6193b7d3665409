"""Account reads: the API tokens a user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, User, credential_fingerprint
from helpdesk.roles import Role


def tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    """Unexpired tokens: a tenant admin's tenant's, anyone else's own (valid ones only)."""
    tokens = ApiToken.objects.valid().select_related("user").order_by("-created_at", "-id")
    if user.tenant_id is not None and user.has_role(Role.TENANT_ADMIN):
        return tokens.filter(user__tenant_id=user.tenant_id)
    return tokens.filter(user=user, credential_fingerprint=credential_fingerprint(user))
