"""HTTP entry point of the tenant scope for session-authenticated users.

Token-authenticated API calls are scoped by the DRF base view instead, because
DRF authenticates after middleware has run.
"""

from collections.abc import Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from helpdesk.tenancy import _active_tenant


def tenant_of(user) -> object | None:
    tenant = getattr(user, "tenant", None) if getattr(user, "is_authenticated", False) else None
    if tenant is None or not tenant.is_active or not user.is_active:
        return None
    return tenant


class TenantScopeMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        token = _active_tenant.set(tenant_of(request.user))
        try:
            return self.get_response(request)
        finally:
            _active_tenant.reset(token)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        user = await request.auser()
        tenant = await _load_tenant(user)
        token = _active_tenant.set(tenant)
        try:
            return await self.get_response(request)
        finally:
            _active_tenant.reset(token)


async def _load_tenant(user) -> object | None:
    from asgiref.sync import sync_to_async

    return await sync_to_async(tenant_of)(user)
