"""The tenant's identity secret, for signing its own customer ids (dialogue.identity).

Write-only: the tenant's server makes the secret up and keeps it; we never send it back.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.services import IDENTITY_SECRET_MIN_CHARS, tenant_identity_secret_set
from helpdesk.api.permissions import IsTenantAdmin
from helpdesk.api.views import TenantAPIView


class IdentitySecretSerializer(serializers.Serializer):
    identity_secret = serializers.CharField(
        min_length=IDENTITY_SECRET_MIN_CHARS,
        max_length=64,
        write_only=True,
        help_text=_("Random characters your server keeps; it is never shown again."),
    )


class IdentitySecretView(TenantAPIView):
    permission_classes = [IsTenantAdmin]

    @extend_schema(
        request=IdentitySecretSerializer,
        responses={204: None},
        summary="Set the visitor identity secret (tenant admin)",
        description=(
            "The secret your server signs your own customer ids with: send identity_hash = "
            "HMAC-SHA256(secret, visitor_id) in hex with the visitor id to "
            "/api/v1/chat/visitor-token/. A new secret replaces the old one at once."
        ),
    )
    def put(self, request):
        body = IdentitySecretSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        tenant_identity_secret_set(
            tenant=request.tenant, secret=body.validated_data["identity_secret"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={204: None},
        summary="Remove the visitor identity secret (tenant admin)",
        description="Signed ids are refused afterwards; anonymous visitor ids still work.",
    )
    def delete(self, request):
        tenant_identity_secret_set(tenant=request.tenant, secret="")
        return Response(status=status.HTTP_204_NO_CONTENT)
