"""Feishu apps, received events, sent messages and reply cards of each tenant."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feishu.encryption import EncryptedTextField
from helpdesk.tenancy import TenantOwnedModel

DOMAINS = {"feishu": "https://open.feishu.cn", "lark": "https://open.larksuite.com"}


class FeishuApp(TenantOwnedModel):
    """A Feishu (or Lark) app a tenant connected: the bot, its callbacks, its Bitable access."""

    name = models.CharField(_("name"), max_length=100)
    app_id = models.CharField(
        _("app id"), max_length=64, help_text=_("From the Feishu developer console: cli_…")
    )
    app_secret = EncryptedTextField(_("app secret"))
    verification_token = EncryptedTextField(_("verification token"), blank=True)
    encrypt_key = EncryptedTextField(_("encrypt key"), blank=True)
    bot_open_id = models.CharField(
        _("bot open id"),
        max_length=64,
        blank=True,
        help_text=_(
            "The bot's own open_id: in groups it answers only when this id is @-mentioned."
        ),
    )
    domain = models.CharField(
        _("domain"),
        max_length=200,
        default="feishu",
        help_text=_("feishu, lark, or the base URL of a private deployment."),
    )
    alert_chat_id = models.CharField(
        _("alert group chat id"),
        max_length=64,
        blank=True,
        help_text=_("Alerts are sent to this group chat (oc_…) when set."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    last_check = models.JSONField(_("last check result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("Feishu app")
        verbose_name_plural = _("Feishu apps")
        ordering = ["name", "id"]
        constraints = [
            # The callback URL names the app, so an app id belongs to one tenant only.
            models.UniqueConstraint(fields=["app_id"], name="feishu_app_unique_app_id")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.app_id})"

    @property
    def base_url(self) -> str:
        return DOMAINS.get(self.domain, self.domain).rstrip("/")


class InboundEvent(TenantOwnedModel):
    """A message or card action received from Feishu, recorded before it is handled.

    One row per (app, message id): Feishu delivers at least once and redelivers, and
    the unique constraint makes the second delivery a no-op, across restarts.
    """

    class Kind(models.TextChoices):
        MESSAGE = "message", _("Message")
        CARD_ACTION = "card_action", _("Card action")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ANSWERED = "answered", _("Answered")
        IGNORED = "ignored", _("Ignored")
        FAILED = "failed", _("Failed")

    app = models.ForeignKey(
        FeishuApp, on_delete=models.CASCADE, related_name="events", verbose_name=_("app")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    message_id = models.CharField(_("message id"), max_length=128)
    event_id = models.CharField(_("event id"), max_length=128, blank=True)
    open_id = models.CharField(_("user open id"), max_length=128, blank=True)
    chat_id = models.CharField(_("chat id"), max_length=128, blank=True)
    via = models.CharField(_("received via"), max_length=16, default="http")
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RECEIVED
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    deliveries = models.PositiveIntegerField(_("deliveries"), default=1)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("Feishu event")
        verbose_name_plural = _("Feishu events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "message_id"], name="feishu_event_once")
        ]
        indexes = [
            models.Index(fields=["tenant", "open_id", "-received_at"], name="feishu_event_user")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.message_id}"


class OutboundMessage(TenantOwnedModel):
    """A message the product sends to Feishu, with its delivery outcome.

    Failed rows are the delivery failures that feed the `feishu.delivery_failures` metric.
    """

    class Purpose(models.TextChoices):
        ANSWER = "answer", _("Answer")
        NOTICE = "notice", _("Notice")
        AGENT_REPLY = "agent_reply", _("Support agent reply")
        ALERT = "alert", _("Alert")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    app = models.ForeignKey(
        FeishuApp, on_delete=models.CASCADE, related_name="outbound", verbose_name=_("app")
    )
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    chat_id = models.CharField(_("chat id"), max_length=128, blank=True)
    reply_to = models.CharField(_("reply to message id"), max_length=128, blank=True)
    msg_type = models.CharField(_("message type"), max_length=16)
    content = models.JSONField(_("content"))
    dialogue_message = models.OneToOneField(
        "dialogue.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feishu_delivery",
        verbose_name=_("conversation message"),
    )
    alert = models.ForeignKey(
        "alerts.Alert",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("alert"),
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    feishu_message_id = models.CharField(_("Feishu message id"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("Feishu message sent")
        verbose_name_plural = _("Feishu messages sent")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status", "finished_at"], name="feishu_outbound_status")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} → {self.chat_id or self.reply_to}"


class ReplyCard(TenantOwnedModel):
    """An answer card in Feishu: which conversation message it shows, for its buttons."""

    app = models.ForeignKey(FeishuApp, on_delete=models.CASCADE, related_name="+")
    feishu_message_id = models.CharField(_("Feishu message id"), max_length=128)
    session = models.ForeignKey(
        "dialogue.ChatSession",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("session"),
    )
    answer = models.ForeignKey(
        "dialogue.Message",
        on_delete=models.CASCADE,
        null=True,
        related_name="+",
        verbose_name=_("answer"),
    )
    open_id = models.CharField(_("user open id"), max_length=128)
    chat_id = models.CharField(_("chat id"), max_length=128)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("Feishu answer card")
        verbose_name_plural = _("Feishu answer cards")
        constraints = [
            models.UniqueConstraint(fields=["app", "feishu_message_id"], name="feishu_card_once")
        ]
