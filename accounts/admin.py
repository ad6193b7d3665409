from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.forms import LimitedAdminAuthenticationForm
from accounts.models import ApiToken, Tenant, User
from accounts.presence import presence_of
from accounts.selectors import tokens_visible_to
from accounts.services import (
    IDENTITY_SECRET_MIN_CHARS,
    api_tokens_revoke,
    tenant_identity_secret_set,
    tenant_initialise,
)
from helpdesk.roles import Role

# Every login goes through the limiter anyway (accounts.backends); this form says why.
admin.site.login_form = LimitedAdminAuthenticationForm


class TenantForm(forms.ModelForm):
    new_identity_secret = forms.CharField(
        label=_("new visitor identity secret"),
        required=False,
        min_length=IDENTITY_SECRET_MIN_CHARS,
        max_length=64,
        widget=forms.PasswordInput(render_value=False),
        help_text=_(
            "Replaces the secret the tenant's server signs its own customer ids with (never "
            "shown; leave empty to keep the current one)."
        ),
    )

    class Meta:
        model = Tenant
        fields = (
            "name",
            "slug",
            "is_active",
            "widget_key",
            "time_zone",
            "widget_frame_ancestors",
            "settings",
        )


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "time_zone", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    form = TenantForm

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            tenant_initialise(tenant=obj)
        secret = form.cleaned_data.get("new_identity_secret")
        if secret:
            tenant_identity_secret_set(tenant=obj, secret=secret)


class UserChangeList(ChangeList):
    """The page's users with whether each is at the staff desk (one cache read)."""

    def get_results(self, request) -> None:
        super().get_results(request)
        present = presence_of(list(self.result_list))
        for user in self.result_list:
            user.desk_presence = present.get(user.pk)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Superusers manage everyone; a tenant admin manages the users of their tenant."""

    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "at_the_desk",
    )
    list_filter = ("role", "is_active")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("tenant", "role", "is_active", "is_staff")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "email", "role", "password1", "password2")}),)

    def get_changelist(self, request, **kwargs):
        return UserChangeList

    @admin.display(description=_("At the desk"))
    def at_the_desk(self, user: User) -> str:
        presence = getattr(user, "desk_presence", None)
        return presence.label if presence else "—"

    def _tenant_admin(self, request) -> bool:
        user = request.user
        return user.is_authenticated and user.is_staff and user.has_role(Role.TENANT_ADMIN)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("tenant")
        if request.user.is_superuser:
            return queryset
        return queryset.filter(tenant_id=request.user.tenant_id, is_superuser=False)

    def get_list_display(self, request):
        if request.user.is_superuser:
            return (*self.list_display, "tenant", "is_superuser")
        return self.list_display

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return ("tenant", *self.list_filter, "is_superuser")
        return self.list_filter

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if not request.user.is_superuser:
            readonly.append("tenant")
        return readonly

    def save_model(self, request, obj, form, change) -> None:
        if not request.user.is_superuser:
            obj.tenant_id = request.user.tenant_id
            obj.is_superuser = False
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            api_tokens_revoke(user=obj)

    def has_module_permission(self, request) -> bool:
        return request.user.is_superuser or self._tenant_admin(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or self._tenant_admin(request)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser or self._tenant_admin(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser or self._tenant_admin(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.pk == request.user.pk:
            return False
        return request.user.is_superuser or self._tenant_admin(request)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Everyone sees and revokes (deletes) their own tokens; tenant admins their tenant's."""

    list_display = ("prefix", "user", "name", "created_at", "expires_at", "last_used_at")
    readonly_fields = ("prefix", "user", "created_at", "expires_at", "last_used_at")
    fields = (*readonly_fields, "name")

    def get_queryset(self, request):
        if request.user.is_superuser:
            return super().get_queryset(request).select_related("user")
        return tokens_visible_to(request.user)

    def has_module_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and (user.is_superuser or user.tenant_id))

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
