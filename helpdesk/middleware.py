"""HTTP entry point of the tenant scope for session-authenticated users.

Token-authenticated API calls are scoped by the DRF base view instead, because
DRF authenticates after middleware has run.

This middleware is synchronous only and comes last in MIDDLEWARE on purpose. Django
runs a middleware chain in the mode of its innermost part; with an async-capable chain
under ASGI, every hook of every built-in middleware hops to a worker thread and back
(about fifteen hops per request). Ending the chain with a sync-only middleware makes
Django run the whole chain in one worker thread.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from helpdesk.tenancy import entered_scope


def tenant_of(user) -> object | None:
    tenant = getattr(user, "tenant", None) if getattr(user, "is_authenticated", False) else None
    if tenant is None or not tenant.is_active or not user.is_active:
        return None
    return tenant


class TenantScopeMiddleware:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with entered_scope(tenant_of(request.user)):
            return self.get_response(request)
