"""The LLM call log: read-only, with a usage summary of the filtered calls."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from helpdesk.admin import TenantScopedAdmin
from llm.choices import Purpose
from llm.models import LLMCall
from llm.selectors import usage_breakdown, usage_totals


@admin.register(LLMCall)
class LLMCallAdmin(TenantScopedAdmin):
    list_display = (
        "created_at",
        "purpose",
        "model",
        "outcome",
        "error_type",
        "prompt_tokens",
        "completion_tokens",
        "cost",
        "latency_ms",
        "first_token_ms",
        "attempts",
    )
    list_filter = ("purpose", "outcome", "error_type", "stream", "model")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None)
        if context and "cl" in context:
            calls = context["cl"].queryset
            by_purpose = usage_breakdown(calls, "purpose")
            for row in by_purpose:
                row["label"] = Purpose(row["key"]).label
            context["usage_summary"] = {
                "title": _("Usage of the calls shown"),
                "totals": usage_totals(calls),
                "by_purpose": by_purpose,
                "by_model": usage_breakdown(calls, "model"),
            }
        return response
