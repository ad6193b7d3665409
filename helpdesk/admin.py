"""Admin base for tenant-owned models.

Tenant staff work inside their own tenant's scope (set by the middleware), so
the default manager already limits every list, form choice and lookup.
Permissions follow the user's role: viewers read, agents add and change,
tenant admins also delete.

Platform superusers have no tenant. They see every tenant's rows through the
explicit `all_tenants` manager, with a tenant column and filter; changing or
deleting one row runs inside that row's tenant scope. They do not add rows: a
row is always created by someone working in a tenant.
"""

from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from helpdesk.roles import Role
from helpdesk.tenancy import current_tenant_or_none, tenant_model, tenant_scope

admin.site.site_header = _("Helpdesk administration")
admin.site.site_title = _("Helpdesk")
admin.site.index_title = _("Customer service back office")


def rows_in_their_scope(queryset: QuerySet) -> Iterator[Any]:
    """Each row of `queryset` inside its own tenant's scope (superuser actions span tenants)."""
    for row in queryset.select_related("tenant").order_by("pk"):
        with tenant_scope(row.tenant):
            yield row


def ids_in_their_scope(queryset: QuerySet) -> Iterator[list[int]]:
    """The ids of `queryset`, one tenant at a time, inside that tenant's scope.

    For actions that call a bulk service (one statement per tenant, not one per row).
    """
    ids_by_tenant: dict[int, list[int]] = {}
    for pk, tenant_id in queryset.order_by("pk").values_list("pk", "tenant_id"):
        ids_by_tenant.setdefault(tenant_id, []).append(pk)
    tenants = tenant_model().objects.in_bulk(ids_by_tenant)
    for tenant_id, ids in ids_by_tenant.items():
        with tenant_scope(tenants[tenant_id]):
            yield ids


def _tenant_staff(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.tenant_id and current_tenant_or_none())


class TenantScopedAdmin(admin.ModelAdmin):
    superuser_list_display: tuple[str, ...] = ("tenant",)

    def get_queryset(self, request: HttpRequest):
        if request.user.is_superuser:
            # ChangeList ignores list_select_related once the queryset has a select_related,
            # so the tenant column's join carries the admin's own joins with it.
            related = self.list_select_related
            if related is True:
                queryset = self.model.all_tenants.select_related()
            else:
                queryset = self.model.all_tenants.select_related("tenant", *(related or ()))
        else:
            queryset = self.model.objects.all()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_list_display(self, request: HttpRequest):
        display = tuple(super().get_list_display(request))
        if request.user.is_superuser:
            return display + tuple(f for f in self.superuser_list_display if f not in display)
        return display

    def get_list_filter(self, request: HttpRequest):
        filters = tuple(super().get_list_filter(request))
        if request.user.is_superuser:
            return ("tenant", *filters)
        return filters

    def _has_role(self, request: HttpRequest, role: str) -> bool:
        return _tenant_staff(request) and request.user.has_role(role)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._has_role(request, Role.VIEWER)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._has_role(request, Role.VIEWER)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, Role.AGENT)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._has_role(request, Role.AGENT)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._has_role(request, Role.TENANT_ADMIN)

    def _object_tenant(self, object_id: str | None):
        if object_id is None:
            return None
        try:
            row = self.model.all_tenants.select_related("tenant").filter(pk=object_id).first()
        except (ValueError, TypeError):
            return None
        if row is None:
            raise Http404
        return row.tenant

    def _in_object_scope(self, request: HttpRequest, object_id: str, view: Callable) -> Any:
        """Superusers: run `view` and render its response inside the row's tenant scope.

        Template responses render after the view returns; inlines and related lookups
        query then, so the rendering must happen inside the scope too.
        """
        if not request.user.is_superuser or object_id is None:
            return view()
        with tenant_scope(self._object_tenant(object_id)):
            response = view()
            if hasattr(response, "render"):
                response.render()
            return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._in_object_scope(
            request,
            object_id,
            lambda: super(TenantScopedAdmin, self).changeform_view(
                request, object_id, form_url, extra_context
            ),
        )

    def delete_view(self, request, object_id, extra_context=None):
        return self._in_object_scope(
            request,
            object_id,
            lambda: super(TenantScopedAdmin, self).delete_view(request, object_id, extra_context),
        )

    def history_view(self, request, object_id, extra_context=None):
        return self._in_object_scope(
            request,
            object_id,
            lambda: super(TenantScopedAdmin, self).history_view(request, object_id, extra_context),
        )

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        if request.user.is_superuser:
            actions.pop("delete_selected", None)
        return actions


class TenantScopedInline(admin.TabularInline):
    def get_queryset(self, request: HttpRequest):
        if request.user.is_superuser:
            return self.model.all_tenants.all()
        return super().get_queryset(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _tenant_staff(request) and request.user.has_role(Role.AGENT)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _tenant_staff(request) and request.user.has_role(Role.AGENT)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _tenant_staff(request) and request.user.has_role(Role.TENANT_ADMIN)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or (
            _tenant_staff(request) and request.user.has_role(Role.VIEWER)
        )


class ReadOnlyTenantInline(TenantScopedInline):
    """A record shown under its parent that nobody edits here (timelines, messages)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
