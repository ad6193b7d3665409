"""Background tasks carry their tenant explicitly and run inside its scope.

    @task()
    @tenant_task
    def reindex(*, tenant_id: int, ...) -> ...

Enqueue with `reindex.enqueue(tenant_id=tenant.pk, ...)`. The worker loads the
tenant and enters its scope before the function body runs; an inactive or
deleted tenant makes the task fail instead of running unscoped.
"""

import functools
from collections.abc import Callable
from typing import Any

from helpdesk.tenancy import TenantScopeError, tenant_model, tenant_scope


def tenant_task[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        tenant_id: Any = kwargs.get("tenant_id")
        if tenant_id is None:
            raise TenantScopeError(f"Task {func.__qualname__} was enqueued without tenant_id.")
        tenant = tenant_model().objects.filter(pk=tenant_id, is_active=True).first()
        if tenant is None:
            raise TenantScopeError(f"Tenant {tenant_id} does not exist or is inactive.")
        with tenant_scope(tenant):
            return func(*args, **kwargs)

    return wrapper
