from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from accounts.models import ApiToken, credential_fingerprint, hash_token_key


class HashedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against the stored SHA-256 digest of the key."""

    keyword = "Token"

    def authenticate_credentials(self, key: str):
        token = (
            ApiToken.objects.valid()
            .select_related("user", "user__tenant")
            .filter(digest=hash_token_key(key))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        user = token.user
        if not constant_time_compare(token.credential_fingerprint, credential_fingerprint(user)):
            # Issued before the password changed: dead for good.
            ApiToken.objects.filter(pk=token.pk).delete()
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        if not user.is_active or (user.tenant_id and not user.tenant.is_active):
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return user, token
