"""Admin for alert rules and alerts; every change goes through alerts.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from alerts import services
from alerts.evaluation import evaluate_rule
from alerts.models import Alert, AlertNotification, AlertRule, Level
from alerts.registry import Unit, all_metrics
from helpdesk.admin import ReadOnlyTenantInline, TenantScopedAdmin, rows_in_their_scope
from helpdesk.roles import Role


def metric_choices() -> list[tuple[str, str]]:
    return [(m.name, f"{m.label} ({m.unit.label}) · {m.name}") for m in all_metrics()]


class AlertRuleForm(forms.ModelForm):
    metric = forms.ChoiceField(label=_("metric"), choices=metric_choices)

    class Meta:
        model = AlertRule
        fields = services.RULE_FIELDS
        help_texts = {
            "threshold": _(
                "In the unit of the metric shown in brackets: a ratio from 0 to 1 "
                "(0.6 is 60 percent), milliseconds, hours, CNY..."
            )
        }

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            services.alert_rule_check(rule=self.instance)
        except ValidationError as exc:
            self._update_errors(exc)


@admin.register(AlertRule)
class AlertRuleAdmin(TenantScopedAdmin):
    form = AlertRuleForm
    list_display = (
        "name",
        "metric",
        "condition",
        "window_minutes",
        "level",
        "enabled",
        "auto_resolve",
        "last_value_display",
        "last_evaluated_at",
        "last_error",
    )
    list_filter = ("enabled", "level", "metric")
    search_fields = ("name", "metric")
    readonly_fields = ("unit", "last_evaluated_at", "last_value", "last_error")
    actions = ["enable", "disable", "evaluate_now"]

    def _tenant_admin(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or self._has_role(request, Role.TENANT_ADMIN)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, Role.TENANT_ADMIN)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._tenant_admin(request)

    @admin.display(description=_("condition"))
    def condition(self, rule: AlertRule) -> str:
        return f"{rule.get_comparison_display()} {Unit(rule.unit).format(rule.threshold)}"

    @admin.display(description=_("last value"))
    def last_value_display(self, rule: AlertRule) -> str:
        return "-" if rule.last_value is None else Unit(rule.unit).format(rule.last_value)

    def save_model(self, request: HttpRequest, obj: AlertRule, form, change: bool) -> None:
        data = {
            name: form.cleaned_data[name]
            for name in services.RULE_FIELDS
            if name in form.cleaned_data
        }
        if change:
            saved = services.alert_rule_update(rule=obj, **data)
        else:
            saved = services.alert_rule_create(**data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request: HttpRequest, obj: AlertRule) -> None:
        services.alert_rule_delete(rule=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AlertRule]) -> None:
        for rule in rows_in_their_scope(queryset):
            services.alert_rule_delete(rule=rule)

    def _set_enabled(self, request: HttpRequest, queryset, enabled: bool) -> None:
        count = 0
        for rule in rows_in_their_scope(queryset):
            services.alert_rule_update(rule=rule, enabled=enabled)
            count += 1
        self.message_user(
            request, ngettext("%(n)d rule changed.", "%(n)d rules changed.", count) % {"n": count}
        )

    @admin.action(description=_("Enable"), permissions=["change"])
    def enable(self, request: HttpRequest, queryset) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable"), permissions=["change"])
    def disable(self, request: HttpRequest, queryset) -> None:
        self._set_enabled(request, queryset, False)

    @admin.action(description=_("Evaluate now"), permissions=["change"])
    def evaluate_now(self, request: HttpRequest, queryset) -> None:
        now = timezone.now()
        for rule in rows_in_their_scope(queryset):
            result = evaluate_rule(rule, tenant=rule.tenant, now=now)
            self.message_user(
                request,
                gettext("%(rule)s: %(outcome)s") % {"rule": rule.name, "outcome": result.outcome},
            )


class AlertNotificationInline(ReadOnlyTenantInline):
    model = AlertNotification
    fields = ("created_at", "event", "channel", "message")
    readonly_fields = fields
    verbose_name_plural = _("notifications")


class ManualAlertForm(forms.ModelForm):
    class Meta:
        model = Alert
        fields = ["title", "message", "level"]


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=_("Resolution note"),
        required=False,
        max_length=services.MAX_NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )


@admin.register(Alert)
class AlertAdmin(TenantScopedAdmin):
    list_display = (
        "title",
        "level",
        "status",
        "value_display",
        "threshold_display",
        "count",
        "first_seen_at",
        "last_seen_at",
        "source",
    )
    list_filter = ("status", "level", "source", ("last_seen_at", admin.DateFieldListFilter))
    search_fields = ("title", "message")
    list_per_page = 50
    inlines = [AlertNotificationInline]
    actions = ["acknowledge", "resolve"]
    readonly_fields = (
        "rule",
        "source",
        "level",
        "status",
        "title",
        "message",
        "metric",
        "unit",
        "comparison",
        "value",
        "threshold",
        "first_seen_at",
        "last_seen_at",
        "count",
        "created_by",
        "acknowledged_by",
        "acknowledged_at",
        "resolved_by",
        "resolved_at",
        "resolution_note",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ManualAlertForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request, obj=None):
        return list(self.readonly_fields if obj is not None else ManualAlertForm.Meta.fields)

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else []

    @admin.display(description=_("measured value"))
    def value_display(self, alert: Alert) -> str:
        return alert.in_unit(alert.value) or "-"

    @admin.display(description=_("threshold"))
    def threshold_display(self, alert: Alert) -> str:
        threshold = alert.in_unit(alert.threshold)
        return "-" if threshold is None else f"{alert.get_comparison_display()} {threshold}"

    def save_model(self, request: HttpRequest, obj: Alert, form, change: bool) -> None:
        # Only the add form saves: existing alerts change through the actions.
        created = services.alert_create_manual(
            title=form.cleaned_data["title"],
            message=form.cleaned_data["message"],
            level=form.cleaned_data.get("level") or Level.WARNING,
            actor=request.user,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    def _run(self, request: HttpRequest, queryset, change: Callable[[Alert], Any]) -> None:
        done, failed = 0, []
        for alert in rows_in_their_scope(queryset):
            try:
                change(alert)
                done += 1
            except ValidationError as exc:
                failed.append(f"{alert.title}: {'; '.join(exc.messages)}")
        if done:
            self.message_user(
                request,
                ngettext("%(n)d alert changed.", "%(n)d alerts changed.", done) % {"n": done},
                messages.SUCCESS,
            )
        for message in failed:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description=_("Acknowledge"), permissions=["change"])
    def acknowledge(self, request: HttpRequest, queryset) -> None:
        self._run(
            request, queryset, lambda a: services.alert_acknowledge(alert=a, actor=request.user)
        )

    @admin.action(description=_("Resolve (with a note)"), permissions=["change"])
    def resolve(self, request: HttpRequest, queryset):
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            note = form.cleaned_data["note"]
            self._run(
                request,
                queryset,
                lambda a: services.alert_resolve(alert=a, actor=request.user, note=note),
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Resolve alerts"),
            "opts": self.model._meta,
            "form": form,
            "alerts": queryset,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/alerts/alert/resolve.html", context)
