"""Admin: conversations (with the transcript and an agent-reply box), messages, suggestions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from dialogue import services, staff
from dialogue.models import ChatSession, Message, SessionStatus, WorkOrderSuggestion
from helpdesk.admin import ReadOnlyTenantInline, TenantScopedAdmin
from helpdesk.roles import Role as UserRole


class MessageInline(ReadOnlyTenantInline):
    model = Message
    fields = ("created_at", "role", "content", "citations", "confidence", "error_type")
    readonly_fields = fields
    ordering = ("created_at", "id")


class ChatSessionForm(forms.ModelForm):
    agent_reply = forms.CharField(
        label=_("Reply to the customer"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent into the conversation as a support agent's message."),
    )

    class Meta:
        model = ChatSession
        fields = ("agent_reply",)


@admin.register(ChatSession)
class ChatSessionAdmin(TenantScopedAdmin):
    form = ChatSessionForm
    list_display = (
        "id",
        "channel",
        "external_user_id",
        "status",
        "handoff_reason",
        "work_order",
        "message_count",
        "satisfaction",
        "last_activity_at",
    )
    list_filter = ("status", "channel", "handoff_reason", "last_activity_at")
    list_select_related = ("work_order",)
    search_fields = ("external_user_id", "messages__content")
    readonly_fields = (
        "channel",
        "external_user_id",
        "status",
        "handoff_reason",
        "end_reason",
        "work_order",
        "message_count",
        "low_confidence_streak",
        "satisfaction",
        "started_at",
        "last_activity_at",
        "handed_off_at",
        "ended_at",
    )
    fields = (*readonly_fields, "agent_reply")
    inlines = (MessageInline,)
    actions = ("end_sessions",)
    date_hierarchy = "last_activity_at"

    def get_search_results(self, request, queryset, search_term):
        results, _may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return results.distinct(), False

    def save_model(self, request: HttpRequest, obj: ChatSession, form, change: bool) -> None:
        reply = form.cleaned_data.get("agent_reply", "").strip()
        if not reply:
            return
        try:
            staff.reply_add(session=obj, user=request.user, content=reply)
        except services.SessionClosed:
            self.message_user(request, _("This conversation has ended."), messages.ERROR)
        except staff.StaffActionRefused as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Superusers read conversations; only the tenant's agents answer them.
        return self._has_role(request, UserRole.AGENT)

    @admin.action(description=_("End the selected conversations"), permissions=["change"])
    def end_sessions(self, request: HttpRequest, queryset) -> None:
        ended = 0
        for session in queryset.exclude(status=SessionStatus.ENDED):
            services.session_end(session=session)
            ended += 1
        self.message_user(request, _("%(count)d conversations ended.") % {"count": ended})


@admin.register(Message)
class MessageAdmin(TenantScopedAdmin):
    list_display = (
        "created_at",
        "session",
        "role",
        "short_content",
        "confidence",
        "low_confidence",
        "kb_only",
        "error_type",
        "rating",
        "thumbs_up",
    )
    list_filter = ("role", "low_confidence", "kb_only", "session__channel", "created_at")
    list_select_related = ("session",)
    search_fields = ("content", "session__external_user_id")
    date_hierarchy = "created_at"
    readonly_fields = (
        "session",
        "role",
        "content",
        "channel_message_id",
        "reply_to",
        "author",
        "citations",
        "confidence",
        "low_confidence",
        "kb_only",
        "prompt_tokens",
        "completion_tokens",
        "latency_ms",
        "first_token_ms",
        "llm_call_id",
        "error_type",
        "rating",
        "thumbs_up",
        "created_at",
    )

    @admin.display(description=_("content"))
    def short_content(self, obj: Message) -> str:
        return Truncator(obj.content).chars(60)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorkOrderSuggestion)
class WorkOrderSuggestionAdmin(TenantScopedAdmin):
    list_display = ("work_order", "short_content", "status", "similarity", "kb_only", "created_at")
    list_filter = ("status", "kb_only", "created_at")
    list_select_related = ("work_order",)
    search_fields = ("content", "human_resolution", "work_order__title")
    readonly_fields = (
        "work_order",
        "content",
        "citations",
        "kb_only",
        "llm_call_id",
        "human_resolution",
        "similarity",
        "status",
        "knowledge_entry",
        "created_by",
        "reviewed_by",
        "created_at",
        "reviewed_at",
    )

    @admin.display(description=_("suggestion"))
    def short_content(self, obj: WorkOrderSuggestion) -> str:
        return Truncator(obj.content).chars(60)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
