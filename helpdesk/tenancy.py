"""Fail-closed tenancy: the active tenant, the scoped manager and the model base.

The active tenant lives in a context variable, so it follows sync code, async
code, threads started through asgiref and background tasks alike. Every entry
point enters `tenant_scope(tenant)` once; everything below it reads
`TenantOwnedModel.objects`, which refuses to run without a scope.

Entry points that resolve a tenant (or find none) use `entered_scope(tenant_or_none)`,
or `enter_scope` / `leave_scope` where the scope opens and closes in different methods
(DRF views): with None, every tenant-owned query fails closed.

Crossing tenants has exactly one spelling: the `all_tenants` manager. Grep for
it to find every place that does.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from accounts.models import Tenant

TENANT_MODEL = "accounts.Tenant"

_active_tenant: ContextVar[Tenant | None] = ContextVar("helpdesk_active_tenant", default=None)
_describing_schema: ContextVar[bool] = ContextVar("helpdesk_describing_schema", default=False)


class TenantScopeError(RuntimeError):
    """Tenant-owned data was touched without (or outside) an active tenant scope."""


@contextmanager
def describing_schema() -> Iterator[None]:
    """While the OpenAPI schema is generated, scoped querysets are empty instead of raising.

    drf-spectacular inspects `get_queryset()` outside any request; an empty queryset
    lets it read the model's field types without exposing a row.
    """
    token = _describing_schema.set(True)
    try:
        yield
    finally:
        _describing_schema.reset(token)


@contextmanager
def tenant_scope(tenant: Tenant) -> Iterator[Tenant]:
    """Make `tenant` the active tenant for the enclosed block."""
    if tenant is None or getattr(tenant, "pk", None) is None:
        raise TenantScopeError("tenant_scope() needs a saved tenant; None is not a scope.")
    token = _active_tenant.set(tenant)
    try:
        yield tenant
    finally:
        _active_tenant.reset(token)


def enter_scope(tenant: Tenant | None) -> Token:
    """Make `tenant` the active tenant, or none (fail closed) for None, until `leave_scope`.

    For entry points: the tenant comes from the request's user, a visitor token or the
    connection, and may be missing.
    """
    if tenant is not None and getattr(tenant, "pk", None) is None:
        raise TenantScopeError("enter_scope() needs a saved tenant or None.")
    return _active_tenant.set(tenant)


def leave_scope(token: Token) -> None:
    _active_tenant.reset(token)


@contextmanager
def entered_scope(tenant: Tenant | None) -> Iterator[None]:
    """`enter_scope` for the enclosed block."""
    token = enter_scope(tenant)
    try:
        yield
    finally:
        leave_scope(token)


def tenant_model() -> type[Tenant]:
    """The Tenant model, without importing its app (the project package imports none)."""
    return apps.get_model(TENANT_MODEL)


def current_tenant() -> Tenant:
    """The active tenant, or TenantScopeError when there is none."""
    tenant = _active_tenant.get()
    if tenant is None:
        raise TenantScopeError(
            "No active tenant. Wrap the code in tenant_scope(tenant), or use the explicit "
            "cross-tenant manager `all_tenants` in platform-admin code."
        )
    return tenant


def current_tenant_or_none() -> Tenant | None:
    return _active_tenant.get()


class TenantQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        if "tenant" in kwargs or "tenant_id" in kwargs:
            raise TenantScopeError("Moving rows to another tenant is not allowed.")
        return super().update(**kwargs)

    def bulk_create(self, objs: Iterable[TenantOwnedModel], *args: Any, **kwargs: Any) -> list:
        objs = list(objs)
        for obj in objs:
            obj.assign_tenant_from_scope()
            obj.check_tenant_links()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Iterable[TenantOwnedModel], fields: Any, *args: Any, **kw: Any):
        objs = list(objs)
        if "tenant" in fields or "tenant_id" in fields:
            raise TenantScopeError("Moving rows to another tenant is not allowed.")
        for obj in objs:
            obj.check_tenant_links()
        return super().bulk_update(objs, fields, *args, **kw)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    """Default manager of tenant-owned models: the active tenant's rows, or an error."""

    def get_queryset(self) -> TenantQuerySet:
        if _describing_schema.get() and _active_tenant.get() is None:
            return super().get_queryset().none()
        return super().get_queryset().filter(tenant_id=current_tenant().pk)


class AllTenantsManager(models.Manager.from_queryset(TenantQuerySet)):
    """The one explicit way across tenants: platform-admin code and migrations only."""


class TenantOwnedModel(models.Model):
    """Abstract base of every model that belongs to a tenant."""

    tenant = models.ForeignKey(
        TENANT_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        verbose_name=_("tenant"),
    )

    objects = TenantManager()
    all_tenants = AllTenantsManager()

    class Meta:
        abstract = True
        base_manager_name = "all_tenants"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.assign_tenant_from_scope()
        self.check_tenant_links()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self.assign_tenant_from_scope()
        return super().delete(*args, **kwargs)

    def assign_tenant_from_scope(self) -> None:
        tenant = current_tenant()
        if self.tenant_id is None:
            self.tenant = tenant
        elif self.tenant_id != tenant.pk:
            raise TenantScopeError(
                f"{type(self).__name__} belongs to tenant {self.tenant_id}, "
                f"but the active tenant is {tenant.pk}."
            )

    def check_tenant_links(self) -> None:
        """Refuse foreign keys that point at another tenant's rows."""
        for field in self._meta.concrete_fields:
            if not field.is_relation or field.name == "tenant":
                continue
            related_model = field.related_model
            if not (isinstance(related_model, type) and hasattr(related_model, "_meta")):
                continue
            linked_id = getattr(self, field.attname)
            if linked_id is None:
                continue
            linked_tenant_id = self._tenant_of_linked(field, related_model, linked_id)
            if linked_tenant_id is not None and linked_tenant_id != self.tenant_id:
                raise ValidationError(
                    {field.name: _("This object belongs to another tenant.")},
                    code="cross_tenant",
                )

    def _tenant_of_linked(self, field: models.Field, related_model: type, linked_id: Any) -> Any:
        if related_model._meta.label == "accounts.Tenant":
            return linked_id
        if hasattr(related_model, "tenant_id"):
            cached = field.get_cached_value(self, default=None)
            if cached is not None and cached.pk == linked_id:
                return cached.tenant_id
            manager = getattr(related_model, "all_tenants", related_model._base_manager)
            return manager.filter(pk=linked_id).values_list("tenant_id", flat=True).first()
        return None
