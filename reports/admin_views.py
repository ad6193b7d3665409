"""The dashboard as the admin's front page, for staff of a tenant and for superusers.

Tenant staff (any role) see their own tenant. Superusers belong to no tenant: they pick
one (remembered in their session) and the page runs inside that tenant's scope. Below the
dashboard the page keeps the admin's list of models.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Tenant
from dialogue.models import Message, Role
from helpdesk.api.fields import MAX_ID
from helpdesk.config import get_config
from helpdesk.roles import Role as StaffRole
from helpdesk.tenancy import current_tenant_or_none, tenant_scope
from knowledge.admin import DRAFT_SESSION_KEY
from reports import exporting
from reports.counters import COUNTER_GROUPS
from reports.drafting import knowledge_draft
from reports.exporting import TABLES
from reports.forms import PeriodForm
from reports.selectors import period_report, report_payload
from reports.workorder_stats import BREAKDOWN_TITLES

SESSION_TENANT = "reports_dashboard_tenant"
UNANSWERED_SHOWN = 20


def dashboard_tenant(request: HttpRequest) -> Tenant | None:
    """Tenant staff: their tenant. Superusers: the tenant they chose (?tenant=slug)."""
    user = request.user
    if not user.is_superuser:
        if not (user.tenant_id and user.has_role(StaffRole.VIEWER)):
            raise PermissionDenied
        return current_tenant_or_none()
    slug = request.GET.get("tenant") or request.session.get(SESSION_TENANT)
    tenant = Tenant.objects.filter(slug=slug, is_active=True).first() if slug else None
    if tenant is not None:
        request.session[SESSION_TENANT] = tenant.slug
    return tenant


def _can_draft(request: HttpRequest) -> bool:
    return bool(request.user.tenant_id) and request.user.has_role(StaffRole.AGENT)


def labels() -> dict[str, str]:
    """The words the page's scripts show, in the request's language."""
    return {
        "previous": _("previous period"),
        "updated": _("Updated"),
        "refreshFailed": _("Refresh failed; retrying."),
        "conversations": _("Conversations"),
        "handoffs": _("Hand-offs"),
        "rating": _("Average rating"),
        "thumbsUp": _("Thumbs-up share"),
        "compliance": _("SLA compliance"),
        "workOrders": _("Work orders"),
        "alerts": _("Alerts"),
        "cost": _("Cost (CNY)"),
        "writeEntry": _("Write a knowledge entry"),
        "handoff": _("hand-off"),
        "lowConfidence": _("low confidence"),
        "thumbsDown": _("thumbs down"),
        "noQuestions": _("No unanswered questions in this period."),
        "question": _("Question"),
        "asked": _("Asked"),
        "why": _("Why"),
        "tokens": _("Tokens"),
        "noBudget": _("No budget set"),
        "hardStop": _("Hard stop on"),
        "seconds": _("s"),
        "minutes": _("min"),
        "hours": _("h"),
        "days": _("d"),
    }


@require_GET
def dashboard(request: HttpRequest) -> TemplateResponse:
    tenant = dashboard_tenant(request)
    form = PeriodForm(request.GET or None)
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "subtitle": None,
        "app_list": admin.site.get_app_list(request),
        "tenant": tenant,
        "form": form,
    }
    if request.user.is_superuser:
        context["tenants"] = Tenant.objects.filter(is_active=True).order_by("name")
    if tenant is not None:
        with tenant_scope(tenant):
            period = form.period_in(tenant.zone)
            report = period_report(tenant=tenant, period=period, unanswered_limit=UNANSWERED_SHOWN)
            context.update(
                {
                    "period": period,
                    "payload": report_payload(report),
                    "labels": labels(),
                    "titles": {name: str(title) for name, title in BREAKDOWN_TITLES.items()},
                    "tables": [(name, str(title)) for name, (title, _b) in TABLES.items()],
                    "query": form.live_query(period),
                    "counter_groups": COUNTER_GROUPS,
                    "refresh_seconds": get_config().get("reports.refresh_seconds"),
                    "can_draft": _can_draft(request),
                }
            )
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/reports/dashboard.html", context)


def _tenant_and_form(request: HttpRequest) -> tuple[Tenant, PeriodForm]:
    tenant = dashboard_tenant(request)
    if tenant is None:
        raise Http404(_("Choose a tenant first."))
    return tenant, PeriodForm(request.GET or None)


def _form_errors(form: PeriodForm) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


@require_GET
def dashboard_data(request: HttpRequest) -> JsonResponse:
    """The dashboard's numbers as JSON, for the page's periodic refresh."""
    tenant, form = _tenant_and_form(request)
    if form.is_bound and not form.is_valid():
        return JsonResponse({"error": _form_errors(form)}, status=400)
    with tenant_scope(tenant):
        report = period_report(
            tenant=tenant, period=form.period_in(tenant.zone), unanswered_limit=UNANSWERED_SHOWN
        )
        return JsonResponse(report_payload(report), encoder=DjangoJSONEncoder)


@require_GET
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """The report as XLSX, or one table as CSV (?table=name)."""
    tenant, form = _tenant_and_form(request)
    if form.is_bound and not form.is_valid():
        return HttpResponseBadRequest(_form_errors(form))
    table = request.GET.get("table")
    if table is not None and table not in TABLES:
        return HttpResponseBadRequest(_("Unknown table."))
    with tenant_scope(tenant):
        report = period_report(tenant=tenant, period=form.period_in(tenant.zone))
        return exporting.table_csv(report, table) if table else exporting.workbook(report)


@require_POST
def knowledge_draft_start(request: HttpRequest) -> HttpResponse:
    """Draft a knowledge entry from a customer question, then open the entry form with it."""
    if not _can_draft(request):
        raise PermissionDenied
    message_id = request.POST.get("message", "")
    message = (
        Message.objects.filter(pk=int(message_id), role=Role.USER)
        .select_related("session__work_order")
        .first()
        if message_id.isdigit() and int(message_id) <= MAX_ID
        else None
    )
    if message is None:
        raise Http404(_("No such question."))
    draft = knowledge_draft(message=message)
    request.session[DRAFT_SESSION_KEY] = {
        "question": draft.question,
        "answer": draft.answer,
        "category": draft.category,
    }
    if draft.drafted_by_llm:
        note = _("The answer was drafted by the assistant from the staff replies: check it.")
    elif draft.answer:
        note = _("The answer holds the staff replies of the conversation: edit it.")
    else:
        note = _("Nobody replied in this conversation yet: write the answer.")
    messages.info(request, note)
    return redirect(reverse("admin:knowledge_knowledgeentry_add") + "?draft=1")
