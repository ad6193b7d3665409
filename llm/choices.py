"""Choices of LLMCall, importable without the models (the client's errors use them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    CHAT = "chat", _("chat")
    SUGGESTION = "suggestion", _("work-order suggestion")
    HANDOFF_SUMMARY = "handoff_summary", _("hand-off summary")
    EXTRACTION = "extraction", _("extraction")
    KNOWLEDGE_DRAFT = "knowledge_draft", _("knowledge-entry draft")
    REPLY_DRAFT = "reply_draft", _("agent reply draft")
    QUERY_REWRITE = "query_rewrite", _("follow-up question rewrite")
    OTHER = "other", _("other")


class Outcome(models.TextChoices):
    OK = "ok", _("ok")
    ERROR = "error", _("error")
    CANCELLED = "cancelled", _("cancelled")


class ErrorType(models.TextChoices):
    TIMEOUT = "timeout", _("timeout")
    RATE_LIMITED = "rate_limited", _("rate limited")
    PROVIDER_ERROR = "provider_error", _("provider error")
    BAD_RESPONSE = "bad_response", _("bad response")
    NOT_CONFIGURED = "not_configured", _("not configured")
    BAD_CONFIGURATION = "bad_configuration", _("bad configuration")
    INTERNAL = "internal", _("internal error")
