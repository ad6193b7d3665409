"""Admin of the Feishu channel: apps (secrets masked, check connection), Bitable syncs
(mapping editable, sync now), and the records of events, sent messages and sync runs."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from feishu import selectors, services
from feishu.bitable.mapping import check_mapping
from feishu.bitable.services import SYNC_FIELDS, bitable_sync_save
from feishu.encryption import mask
from feishu.models import (
    BitableSync,
    BitableSyncRun,
    FeishuApp,
    InboundEvent,
    OutboundMessage,
)
from feishu.tasks import bitable_sync
from helpdesk.admin import ReadOnlyTenantInline, TenantScopedAdmin, rows_in_their_scope
from helpdesk.roles import Role

SECRETS = ("app_secret", "verification_token", "encrypt_key")


class TenantAdminOnly(TenantScopedAdmin):
    """Configuration: tenant administrators change it, others may look."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, Role.TENANT_ADMIN)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or self._has_role(request, Role.TENANT_ADMIN)


class FeishuAppForm(forms.ModelForm):
    """Secrets are typed in and never shown again; leave a field empty to keep it."""

    app_secret = forms.CharField(
        label=_("app secret"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    verification_token = forms.CharField(
        label=_("verification token"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    encrypt_key = forms.CharField(
        label=_("encrypt key"), required=False, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = FeishuApp
        fields = ["name", "app_id", *SECRETS, "bot_open_id", "domain", "alert_chat_id", "is_active"]

    def clean_app_id(self) -> str:
        value = self.cleaned_data["app_id"]
        if selectors.app_id_in_use(value, other_than=self.instance.pk):
            raise ValidationError(_("This app is already connected (app ids are unique)."))
        return value

    def clean_app_secret(self) -> str:
        value = self.cleaned_data["app_secret"]
        if not value and not self.instance.pk:
            raise ValidationError(_("This field is required."))
        return value

    def _post_clean(self) -> None:
        # Empty secret fields keep the stored value; the service validates the rest.
        for name in SECRETS:
            if not self.cleaned_data.get(name) and self.instance.pk:
                self.cleaned_data[name] = getattr(self.instance, name)
        super()._post_clean()


@admin.register(FeishuApp)
class FeishuAppAdmin(TenantAdminOnly):
    form = FeishuAppForm
    list_display = ("name", "app_id", "domain", "is_active", "secrets", "last_checked_at")
    readonly_fields = ("secrets", "event_url", "card_url", "last_checked_at", "last_check")
    actions = ["check_connection"]

    @admin.display(description=_("secrets"))
    def secrets(self, app: FeishuApp) -> str:
        return " · ".join(f"{name}: {mask(getattr(app, name)) or '-'}" for name in SECRETS)

    @admin.display(description=_("event callback URL (for the Feishu console)"))
    def event_url(self, app: FeishuApp) -> str:
        return reverse("feishu-events", kwargs={"app_id": app.app_id}) if app.pk else "-"

    @admin.display(description=_("card callback URL (for the Feishu console)"))
    def card_url(self, app: FeishuApp) -> str:
        return reverse("feishu-cards", kwargs={"app_id": app.app_id}) if app.pk else "-"

    def save_model(self, request: HttpRequest, obj: FeishuApp, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in FeishuAppForm.Meta.fields}
        if change:
            saved = services.feishu_app_update(app=obj, **data)
        else:
            saved = services.feishu_app_create(**data)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: FeishuApp) -> None:
        services.feishu_app_delete(app=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FeishuApp]) -> None:
        for app in rows_in_their_scope(queryset):
            services.feishu_app_delete(app=app)

    @admin.action(description=_("Check connection"), permissions=["change"])
    def check_connection(self, request: HttpRequest, queryset) -> None:
        for app in rows_in_their_scope(queryset):
            result = services.feishu_app_check(app=app)
            if result["ok"]:
                self.message_user(request, gettext("%(app)s: connected.") % {"app": app})
            elif result["error"]:
                text = gettext("%(app)s: cannot connect (%(error)s).")
                self.message_user(
                    request, text % {"app": app, "error": result["error"]}, messages.ERROR
                )
            else:
                text = gettext("%(app)s: connected, but these permissions are missing: %(scopes)s.")
                scopes = ", ".join(result["missing_scopes"])
                self.message_user(request, text % {"app": app, "scopes": scopes}, messages.WARNING)


class BitableSyncRunInline(ReadOnlyTenantInline):
    model = BitableSyncRun
    fields = (
        "kind",
        "status",
        "started_at",
        "pages",
        "created",
        "updated",
        "skipped",
        "failed",
        "message",
    )
    readonly_fields = fields
    ordering = ("-started_at",)
    max_num = 0


class BitableSyncForm(forms.ModelForm):
    # The choices are the scope's apps, read when the form is built for a request.
    app = forms.ModelChoiceField(label=_("app"), queryset=FeishuApp.all_tenants.none())

    class Meta:
        model = BitableSync
        fields = sorted(SYNC_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["app"].queryset = FeishuApp.objects.all()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        errors = check_mapping(
            data.get("field_mapping"), data.get("status_map"), data.get("priority_map")
        )
        for field, message in errors.items():
            self.add_error(field, message)
        # The unique constraint includes the tenant, which is not a form field, so the
        # form's own unique check skips it: checked here, in the tenant's scope.
        app_token, table_id = data.get("app_token"), data.get("table_id")
        if (
            app_token
            and table_id
            and BitableSync.objects.filter(app_token=app_token, table_id=table_id)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            self.add_error("table_id", _("This table is already synced."))
        return data


@admin.register(BitableSync)
class BitableSyncAdmin(TenantAdminOnly):
    form = BitableSyncForm
    list_display = ("name", "app", "table_id", "enabled", "interval_minutes", "last_pull_at")
    list_select_related = ("app",)
    readonly_fields = ("watermark_ms", "last_pull_at")
    inlines = [BitableSyncRunInline]
    actions = ["sync_now", "sync_full"]

    def save_model(self, request: HttpRequest, obj: BitableSync, form, change: bool) -> None:
        bitable_sync_save(sync=obj)

    def _enqueue(self, request: HttpRequest, queryset, *, full: bool) -> None:
        for sync in rows_in_their_scope(queryset):
            bitable_sync.enqueue(tenant_id=sync.tenant_id, sync_id=sync.pk, full=full)
            self.message_user(request, gettext("%(sync)s: sync started.") % {"sync": sync})

    @admin.action(description=_("Sync now"), permissions=["change"])
    def sync_now(self, request: HttpRequest, queryset) -> None:
        self._enqueue(request, queryset, full=False)

    @admin.action(description=_("Sync now, reading the whole table"), permissions=["change"])
    def sync_full(self, request: HttpRequest, queryset) -> None:
        self._enqueue(request, queryset, full=True)


class ReadOnlyAdmin(TenantScopedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundEvent)
class InboundEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "app", "kind", "message_id", "status", "deliveries", "via")
    list_select_related = ("app",)
    list_filter = ("kind", "status", "via")
    search_fields = ("message_id", "open_id", "chat_id")


@admin.register(OutboundMessage)
class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "app", "purpose", "chat_id", "status", "attempts", "last_error")
    list_select_related = ("app",)
    list_filter = ("purpose", "status")


@admin.register(BitableSyncRun)
class BitableSyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "sync",
        "kind",
        "status",
        "created",
        "updated",
        "skipped",
        "failed",
        "message",
    )
    list_select_related = ("sync",)
    list_filter = ("kind", "status")
