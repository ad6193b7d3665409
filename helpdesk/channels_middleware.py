"""Channels entry point of the tenant scope (WebSocket consumers)."""

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from helpdesk.middleware import tenant_of
from helpdesk.tenancy import entered_scope


class TenantScopeMiddleware(BaseMiddleware):
    """Runs the consumer inside the tenant of `scope["tenant"]` or of `scope["user"]`.

    Place it inside AuthMiddlewareStack. Connections without a tenant run with no
    scope, so any tenant-owned query they make fails closed.
    """

    async def __call__(self, scope, receive, send):
        tenant = scope.get("tenant")
        if tenant is None and "user" in scope:
            tenant = await database_sync_to_async(tenant_of)(scope["user"])
        scope = dict(scope, tenant=tenant)
        with entered_scope(tenant):
            return await super().__call__(scope, receive, send)
