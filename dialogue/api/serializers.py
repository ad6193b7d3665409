"""DRF serializers of the chat API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dialogue import selectors
from dialogue.live import frames
from dialogue.models import (
    Channel,
    ChatSession,
    EndReason,
    HandoffReason,
    Message,
    WorkOrderSuggestion,
)
from helpdesk.api.fields import IdField
from knowledge.api.proposals import WordingProposalSerializer


class VisitorTokenRequestSerializer(serializers.Serializer):
    widget_key = serializers.CharField(max_length=64)
    visitor_id = serializers.RegexField(
        r"^[A-Za-z0-9_.:@-]{1,100}$",
        help_text=_("A stable id the widget keeps for the visitor (letters, digits, _.:@-)."),
        error_messages={"invalid": _("Use 1-100 letters, digits or _.:@- characters.")},
    )
    identity_hash = serializers.RegexField(
        r"^[0-9a-fA-F]{64}$",
        required=False,
        allow_blank=True,
        help_text=_(
            "For the tenant's own customer ids: the HMAC-SHA256 of visitor_id with the "
            "tenant's identity secret, in hex. Unsigned ids may not be e-mail addresses or "
            "phone numbers."
        ),
    )


class VisitorTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_('Send as "Authorization: Visitor <token>".'))
    expires_in = serializers.IntegerField(help_text=_("Seconds."))
    visitor_id = serializers.CharField()


class ChatSessionSerializer(serializers.ModelSerializer):
    work_order = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    handoff_reason = serializers.ChoiceField(
        choices=HandoffReason.choices, allow_blank=True, read_only=True
    )
    end_reason = serializers.ChoiceField(
        choices=EndReason.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = ChatSession
        fields = [
            "id",
            "channel",
            "external_user_id",
            "status",
            "work_order",
            "handoff_reason",
            "end_reason",
            "message_count",
            "low_confidence_streak",
            "satisfaction",
            "started_at",
            "last_activity_at",
            "handed_off_at",
            "ended_at",
        ]
        read_only_fields = fields


class ChatSessionCreateSerializer(serializers.Serializer):
    external_user_id = serializers.CharField(
        max_length=128,
        required=False,
        help_text=_("Staff only: the customer this API session is for. Visitors omit it."),
    )
    work_order = IdField(
        required=False, help_text=_("Staff only: a work order whose AI suggestions guide answers.")
    )


class SourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text=_("The cited knowledge entry's question."))


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    initial = serializers.CharField()


class MessageListSerializer(serializers.ListSerializer):
    """A page of messages: the titles of the entries they cite are read in one query."""

    def to_representation(self, data: Any) -> list:
        messages = list(data.all() if hasattr(data, "all") else data)
        self.context.setdefault("titles", selectors.citation_titles(messages))
        return super().to_representation(messages)


class MessageSerializer(serializers.ModelSerializer):
    """A message; the caller may pass the cited entries' titles as context["titles"]."""

    session = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    reply_to = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    citations = serializers.ListField(child=serializers.IntegerField(), read_only=True)
    sources = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()

    class Meta:
        model = Message
        list_serializer_class = MessageListSerializer
        fields = [
            "id",
            "session",
            "role",
            "content",
            "reply_to",
            "citations",
            "sources",
            "author",
            "confidence",
            "low_confidence",
            "kb_only",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
            "first_token_ms",
            "error_type",
            "rating",
            "thumbs_up",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(SourceSerializer(many=True))
    def get_sources(self, message: Message) -> list[dict[str, Any]]:
        titles = self.context.get("titles")
        if titles is None:
            titles = selectors.citation_titles([message])
        return frames.sources(message, titles)

    @extend_schema_field(AuthorSerializer(allow_null=True))
    def get_author(self, message: Message) -> dict[str, Any] | None:
        return frames.person(message.author) if message.author_id else None


class SendMessageSerializer(serializers.Serializer):
    content = serializers.CharField(trim_whitespace=False, allow_blank=True)
    client_message_id = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        help_text=_("The client's id of the message; resending it returns the original answer."),
    )


class ChatReplySerializer(serializers.Serializer):
    session = ChatSessionSerializer()
    message = MessageSerializer(help_text=_("The customer's message as saved."))
    answer = MessageSerializer(
        allow_null=True, help_text=_("The answer; null while a person handles the session.")
    )
    duplicate = serializers.BooleanField()
    handed_off = serializers.BooleanField()


class FeedbackSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    message = IdField(
        required=False, help_text=_("An answer of this session; without it, rates the session.")
    )
    thumbs = serializers.ChoiceField(choices=["up", "down"], required=False)

    def validate(self, attrs: dict) -> dict:
        if "rating" not in attrs and "thumbs" not in attrs:
            raise serializers.ValidationError({"rating": [_("Send a rating or thumbs.")]})
        if "thumbs" in attrs and "message" not in attrs:
            raise serializers.ValidationError({"message": [_("Thumbs need a message.")]})
        return attrs


class AgentReplySerializer(serializers.Serializer):
    content = serializers.CharField(max_length=4000)
    entry = IdField(
        required=False,
        help_text=_(
            "The knowledge entry the reply was built on: the customer's questions are "
            "proposed as its similar questions."
        ),
    )


class AnswerCorrectionSerializer(serializers.Serializer):
    message = IdField(help_text=_("The assistant's wrong answer, in this session."))
    entry = IdField(help_text=_("The knowledge entry that answers the customer's question."))


class AnswerCorrectedSerializer(serializers.Serializer):
    proposal = WordingProposalSerializer(
        allow_null=True,
        help_text=_(
            "The customer's question proposed as a similar question of the entry; "
            "null when the entry already has that wording."
        ),
    )


class SessionFilterSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    status = serializers.ChoiceField(
        choices=ChatSession._meta.get_field("status").choices, required=False
    )
    handed_off = serializers.BooleanField(required=False, allow_null=True, default=None)
    low_confidence = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    external_user_id = serializers.CharField(required=False)
    work_order = IdField(required=False)
    q = serializers.CharField(required=False, max_length=200)


class MessageFilterSerializer(serializers.Serializer):
    session = serializers.IntegerField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    role = serializers.ChoiceField(choices=Message._meta.get_field("role").choices, required=False)
    low_confidence = serializers.BooleanField(required=False, allow_null=True, default=None)
    kb_only = serializers.BooleanField(required=False, allow_null=True, default=None)
    failed = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateField(required=False)
    until = serializers.DateField(required=False)
    q = serializers.CharField(required=False, max_length=200)


class SuggestionSerializer(serializers.ModelSerializer):
    work_order = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    knowledge_entry = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    citations = serializers.ListField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = WorkOrderSuggestion
        fields = [
            "id",
            "work_order",
            "content",
            "citations",
            "kb_only",
            "human_resolution",
            "similarity",
            "status",
            "knowledge_entry",
            "created_at",
            "reviewed_at",
        ]
        read_only_fields = fields


class ResolutionSerializer(serializers.Serializer):
    human_resolution = serializers.CharField(max_length=20000)
