"""Admin for support staff: the work-order list, the form with its timeline, and actions.

Every change made here goes through workorders.services, so the admin writes the
same timeline events and obeys the same status rules as the API.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseNotAllowed
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import ReadOnlyTenantInline, TenantScopedAdmin, rows_in_their_scope
from helpdesk.roles import Role
from helpdesk.tenancy import current_tenant_or_none
from workorders import exporting, rules, selectors, services, suggestion_panel
from workorders.models import WorkOrder, WorkOrderEvent

Status = WorkOrder.Status


class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue")), ("no", _("Not overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue()
        if self.value() == "no":
            return queryset.not_overdue()
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("Mine")), ("none", _("Unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset


class WorkOrderEventInline(ReadOnlyTenantInline):
    model = WorkOrderEvent
    fields = ("created_at", "kind", "actor", "body", "internal", "before", "after")
    readonly_fields = fields
    ordering = ("created_at", "id")
    verbose_name = _("timeline entry")
    verbose_name_plural = _("timeline")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class WorkOrderForm(forms.ModelForm):
    new_comment = forms.CharField(
        label=_("New comment"),
        required=False,
        max_length=rules.MAX_COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    comment_is_reply = forms.BooleanField(
        label=_("Reply to the requester (otherwise an internal note)"), required=False
    )

    class Meta:
        model = WorkOrder
        fields = [
            "title",
            "description",
            "category",
            "priority",
            "status",
            "assignee",
            "requester_name",
            "requester_contact",
            "requester_external_id",
            "vin",
            "module",
            "region",
            "due_at",
            "resolution",
            "satisfaction",
            "extra",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if current_tenant_or_none() is not None and "assignee" in self.fields:
            self.fields["assignee"].queryset = selectors.assignable_users()
        if "status" in self.fields:
            current = self.instance.status if self.instance.pk else Status.OPEN
            allowed = {current}
            if self.instance.pk:
                allowed.update(rules.allowed_transitions(current))
            self.fields["status"].choices = [c for c in Status.choices if c[0] in allowed]


REQUESTER_FIELDSET = (
    _("Requester and vehicle"),
    {
        "fields": (
            "requester_name",
            "requester_contact",
            "requester_external_id",
            "vin",
            "module",
            "region",
            "extra",
        )
    },
)


@admin.register(WorkOrder)
class WorkOrderAdmin(TenantScopedAdmin):
    form = WorkOrderForm
    list_display = (
        "number",
        "title",
        "status",
        "priority",
        "assignee",
        "category",
        "module",
        "source",
        "due_at",
        "overdue_flag",
        "created_at",
    )
    list_display_links = ("number", "title")
    list_filter = (
        OverdueFilter,
        AssigneeFilter,
        "status",
        "priority",
        "source",
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("assignee",)
    search_fields = ("number", "title", "description")
    readonly_fields = ("number", "source", "created_at", "updated_at", "resolved_at", "closed_at")
    list_per_page = 50
    show_full_result_count = False
    inlines = [WorkOrderEventInline]
    actions = [
        "assign_to_me",
        "mark_in_progress",
        "mark_pending",
        "mark_resolved",
        "mark_closed",
        "reopen",
        "export_csv",
        "export_xlsx",
    ]
    fieldsets = (
        (
            None,
            {"fields": ("number", "title", "description", "category", "priority", "status")},
        ),
        (_("Handling"), {"fields": ("assignee", "due_at", "resolution", "satisfaction")}),
        REQUESTER_FIELDSET,
        (_("Comment"), {"fields": ("new_comment", "comment_is_reply")}),
        (
            _("Times"),
            {"fields": ("source", "created_at", "updated_at", "resolved_at", "closed_at")},
        ),
    )

    change_form_template = "admin/workorders/workorder/change_form.html"

    def get_urls(self):
        return [
            path(
                "<path:object_id>/suggestions/",
                self.admin_site.admin_view(self.suggestions_view),
                name="workorders_workorder_suggestions",
            ),
            *super().get_urls(),
        ]

    def suggestions_view(self, request: HttpRequest, object_id: str):
        """AI-suggestion actions of the change page (see workorders.suggestion_panel)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not suggestion_panel.can_act(request):
            raise PermissionDenied
        # Tenant staff only (can_act): the middleware's scope limits get_object to their rows.
        work_order = self.get_object(request, object_id)
        if work_order is None:
            raise Http404
        return suggestion_panel.suggestions_view(request, work_order)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:  # the change page of a work order already read
            context["suggestion_panel"] = suggestion_panel.render_panel(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_search_results(self, request, queryset, search_term):
        # The same search as the API, which uses the search indexes (see selectors.search).
        if not search_term.strip():
            return queryset, False
        return selectors.search(queryset, search_term), False

    @admin.display(description=_("overdue"), boolean=True)
    def overdue_flag(self, obj: WorkOrder) -> bool:
        return obj.is_overdue()

    # A new work order starts open; it gets its number, source and times when saved.
    add_fieldsets = (
        (None, {"fields": ("title", "description", "category", "priority")}),
        (_("Handling"), {"fields": ("assignee", "due_at")}),
        REQUESTER_FIELDSET,
    )

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets if obj is not None else self.add_fieldsets

    def save_model(self, request: HttpRequest, obj: WorkOrder, form, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.fields}
        comment = data.pop("new_comment", "")
        reply = data.pop("comment_is_reply", False)
        try:
            if change:
                fresh = WorkOrder.objects.get(pk=obj.pk)
                services.workorder_update(work_order=fresh, actor=request.user, **data)
                obj.refresh_from_db()
            else:
                created = services.workorder_create(
                    actor=request.user,
                    **{k: v for k, v in form.cleaned_data.items() if k in rules.CREATE_FIELDS},
                )
                obj.pk = created.pk
                obj.refresh_from_db()
            if comment:
                services.workorder_comment(
                    work_order=obj, actor=request.user, body=comment, internal=not reply
                )
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)

    # Actions -----------------------------------------------------------------------------------

    def _run(
        self, request: HttpRequest, queryset: QuerySet, change: Callable[[WorkOrder], None]
    ) -> None:
        done, failed = 0, []
        for work_order in rows_in_their_scope(queryset):
            try:
                change(work_order)
                done += 1
            except ValidationError as exc:
                failed.append(f"{work_order.number}: {'; '.join(exc.messages)}")
        if done:
            self.message_user(
                request, gettext("%(n)d work orders changed.") % {"n": done}, messages.SUCCESS
            )
        for message in failed:
            self.message_user(request, message, messages.WARNING)

    def _transition_action(self, request, queryset, status: str) -> None:
        self._run(
            request,
            queryset,
            lambda w: services.workorder_transition(
                work_order=w, status=status, actor=request.user
            ),
        )

    @admin.action(description=_("Assign to me"), permissions=["assign"])
    def assign_to_me(self, request, queryset) -> None:
        self._run(
            request,
            queryset,
            lambda w: services.workorder_assign(
                work_order=w, assignee=request.user, actor=request.user
            ),
        )

    @admin.action(description=_("Mark as in progress"), permissions=["change"])
    def mark_in_progress(self, request, queryset) -> None:
        self._transition_action(request, queryset, Status.IN_PROGRESS)

    @admin.action(
        description=_("Mark as pending (waiting on the requester)"), permissions=["change"]
    )
    def mark_pending(self, request, queryset) -> None:
        self._transition_action(request, queryset, Status.PENDING)

    @admin.action(description=_("Mark as resolved"), permissions=["change"])
    def mark_resolved(self, request, queryset) -> None:
        self._transition_action(request, queryset, Status.RESOLVED)

    @admin.action(description=_("Close"), permissions=["change"])
    def mark_closed(self, request, queryset) -> None:
        self._transition_action(request, queryset, Status.CLOSED)

    @admin.action(description=_("Reopen"), permissions=["change"])
    def reopen(self, request, queryset) -> None:
        self._transition_action(request, queryset, Status.OPEN)

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        return exporting.export_response(queryset.order_by("-created_at", "-id"), "csv")

    @admin.action(description=_("Export selected as XLSX"), permissions=["view"])
    def export_xlsx(self, request, queryset):
        return exporting.export_response(queryset.order_by("-created_at", "-id"), "xlsx")

    def has_assign_permission(self, request: HttpRequest) -> bool:
        # Only tenant staff can be assignees; platform superusers have no tenant.
        return bool(request.user.tenant_id) and self._has_role(request, Role.AGENT)
