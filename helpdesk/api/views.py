"""Base API views: the tenant is resolved once, here, and handed to every view.

After authentication the request's tenant (from the user, or from any other
principal that carries `.tenant`, such as a visitor) becomes the active tenant
scope for the rest of the request.
"""

from rest_framework import generics, viewsets
from rest_framework.views import APIView

from helpdesk.tenancy import enter_scope, leave_scope


def request_tenant(request):
    user = request.user
    tenant = getattr(user, "tenant", None) if user is not None else None
    if tenant is None or not tenant.is_active or not getattr(user, "is_active", True):
        return None
    return tenant


class TenantScopedMixin:
    def perform_authentication(self, request) -> None:
        super().perform_authentication(request)
        request.tenant = request_tenant(request)
        self._tenant_scope_token = enter_scope(request.tenant)

    def finalize_response(self, request, response, *args, **kwargs):
        token = getattr(self, "_tenant_scope_token", None)
        if token is not None:
            leave_scope(token)
            self._tenant_scope_token = None
        return super().finalize_response(request, response, *args, **kwargs)


class TenantAPIView(TenantScopedMixin, APIView):
    pass


class TenantGenericAPIView(TenantScopedMixin, generics.GenericAPIView):
    pass


class TenantGenericViewSet(TenantScopedMixin, viewsets.GenericViewSet):
    pass


class TenantModelViewSet(TenantScopedMixin, viewsets.ModelViewSet):
    pass


class TenantReadOnlyViewSet(TenantScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass
