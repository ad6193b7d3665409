"""Who may call what: tenant membership, roles and platform administration."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from helpdesk.roles import Role


def _member(request) -> bool:
    user = request.user
    return bool(
        user
        and user.is_authenticated
        and getattr(user, "tenant_id", None)
        and user.tenant.is_active
        and getattr(request, "tenant", None) is not None
    )


class IsTenantMember(BasePermission):
    """Any active user of an active tenant (the default for /api/v1/)."""

    def has_permission(self, request, view) -> bool:
        return _member(request)


class ReadOrAgent(BasePermission):
    """Viewers read; agents and tenant admins also write."""

    def has_permission(self, request, view) -> bool:
        if not _member(request):
            return False
        needed = Role.VIEWER if request.method in SAFE_METHODS else Role.AGENT
        return request.user.has_role(needed)


class IsTenantAdmin(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _member(request) and request.user.has_role(Role.TENANT_ADMIN)


class IsPlatformAdmin(BasePermission):
    """Platform superusers: deployment-wide settings, never tenant data."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_superuser)
