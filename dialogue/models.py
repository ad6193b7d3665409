"""Chat sessions, their messages and AI suggestions for work orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantOwnedModel


class Channel(models.TextChoices):
    WEB = "web", _("Web chat")
    API = "api", _("API")
    FEISHU = "feishu", _("Feishu")


class SessionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    HANDED_OFF = "handed_off", _("Handed off to a person")
    ENDED = "ended", _("Ended")


class HandoffReason(models.TextChoices):
    KEYWORD = "keyword", _("Customer asked for a person")
    REQUEST = "request", _("Hand-off requested through the API")
    LOW_CONFIDENCE = "low_confidence", _("Repeated low-confidence answers")
    AGENT = "agent", _("A support agent took over")


class EndReason(models.TextChoices):
    CLOSED = "closed", _("Closed")
    IDLE = "idle", _("Idle timeout")


class ChatSession(TenantOwnedModel):
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    external_user_id = models.CharField(
        _("external user id"),
        max_length=128,
        help_text=_("Visitor id, Feishu open id or the API caller's user id."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=SessionStatus.choices, default=SessionStatus.ACTIVE
    )
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_sessions",
        verbose_name=_("work order"),
    )
    handoff_reason = models.CharField(
        _("hand-off reason"), max_length=16, choices=HandoffReason.choices, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("support agent"),
        help_text=_("The person who has claimed the conversation."),
    )
    assigned_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    end_reason = models.CharField(
        _("end reason"), max_length=16, choices=EndReason.choices, blank=True
    )
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    low_confidence_streak = models.PositiveSmallIntegerField(
        _("low-confidence answers in a row"), default=0
    )
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    last_activity_at = models.DateTimeField(_("last activity"), auto_now_add=True)
    handed_off_at = models.DateTimeField(_("handed off at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        ordering = ["-last_activity_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-last_activity_at"], name="dlg_session_recent"),
            models.Index(
                fields=["tenant", "status", "-last_activity_at"], name="dlg_session_status"
            ),
            models.Index(
                fields=["tenant", "channel", "external_user_id", "-last_activity_at"],
                name="dlg_session_user",
            ),
            # Reports count conversations and hand-offs per period.
            models.Index(fields=["tenant", "started_at"], name="dlg_session_started"),
            models.Index(fields=["tenant", "handed_off_at"], name="dlg_session_handed_off"),
            # The staff desk's queue: a tenant's handed-off sessions by owner.
            models.Index(fields=["tenant", "status", "assignee"], name="dlg_session_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "external_user_id"],
                condition=~models.Q(status="ended"),
                name="dlg_one_open_session",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_display()} {self.external_user_id}"


class Role(models.TextChoices):
    USER = "user", _("Customer")
    ASSISTANT = "assistant", _("Assistant")
    AGENT = "agent", _("Support agent")
    SYSTEM = "system", _("System")
    NOTE = "note", _("Internal note")


# What the customer sees of a conversation; internal notes are for staff only.
CUSTOMER_ROLES = (Role.USER, Role.ASSISTANT, Role.AGENT, Role.SYSTEM)


class Message(TenantOwnedModel):
    session = models.ForeignKey(
        ChatSession, on_delete=models.CASCADE, related_name="messages", verbose_name=_("session")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    content = models.TextField(_("content"))
    channel_message_id = models.CharField(
        _("channel message id"),
        max_length=128,
        blank=True,
        help_text=_("The channel's own id of a customer message, used to drop duplicates."),
    )
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("reply to"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("support agent"),
    )
    citations = models.JSONField(_("cited knowledge entries"), default=list, blank=True)
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    low_confidence = models.BooleanField(_("low confidence"), default=False)
    kb_only = models.BooleanField(_("knowledge-base-only answer"), default=False)
    prompt_tokens = models.PositiveIntegerField(_("prompt tokens"), null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(_("completion tokens"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    first_token_ms = models.PositiveIntegerField(
        _("time to first token (ms)"), null=True, blank=True
    )
    llm_call_id = models.CharField(_("LLM call id"), max_length=64, blank=True)
    error_type = models.CharField(_("error type"), max_length=64, blank=True)
    rating = models.PositiveSmallIntegerField(_("rating (1-5)"), null=True, blank=True)
    thumbs_up = models.BooleanField(_("thumbs up"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["session", "created_at"], name="dlg_message_session"),
            models.Index(fields=["tenant", "role", "created_at"], name="dlg_message_role"),
            # The dashboard's questions the assistant could not answer well.
            models.Index(
                fields=["tenant", "created_at"],
                condition=models.Q(role="assistant")
                & (models.Q(low_confidence=True) | models.Q(thumbs_up=False)),
                name="dlg_message_poor_answer",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "channel_message_id"],
                condition=models.Q(role="user") & ~models.Q(channel_message_id=""),
                name="dlg_message_channel_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.content[:40]}"


class SuggestionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class WorkOrderSuggestion(TenantOwnedModel):
    """An AI suggestion for a work order, compared with the resolution staff recorded."""

    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.CASCADE,
        related_name="ai_suggestions",
        verbose_name=_("work order"),
    )
    content = models.TextField(_("suggestion"))
    citations = models.JSONField(_("cited knowledge entries"), default=list, blank=True)
    kb_only = models.BooleanField(_("knowledge-base-only suggestion"), default=False)
    llm_call_id = models.CharField(_("LLM call id"), max_length=64, blank=True)
    human_resolution = models.TextField(_("human resolution"), blank=True)
    similarity = models.FloatField(_("similarity"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SuggestionStatus.choices,
        default=SuggestionStatus.DRAFT,
    )
    knowledge_entry = models.ForeignKey(
        "knowledge.KnowledgeEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("knowledge entry"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("work-order suggestion")
        verbose_name_plural = _("work-order suggestions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["work_order", "-created_at"], name="dlg_suggestion_wo"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id}: {self.content[:40]}"
