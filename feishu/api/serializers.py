"""Serializers of /api/v1/feishu/: secrets are write-only; reads say only whether one is set."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from feishu.models import FeishuApp

SECRET_FIELDS = ("app_secret", "verification_token", "encrypt_key")


class FeishuAppSerializer(serializers.ModelSerializer):
    app_secret = serializers.CharField(
        write_only=True, max_length=200, help_text=_("Write-only; never returned.")
    )
    verification_token = serializers.CharField(
        write_only=True, max_length=200, required=False, allow_blank=True
    )
    encrypt_key = serializers.CharField(
        write_only=True, max_length=200, required=False, allow_blank=True
    )
    secrets_set = serializers.SerializerMethodField(
        help_text=_("Which secrets are set (their values are never returned).")
    )
    event_url = serializers.SerializerMethodField()
    card_url = serializers.SerializerMethodField()

    class Meta:
        model = FeishuApp
        fields = [
            "id",
            "name",
            "app_id",
            "app_secret",
            "verification_token",
            "encrypt_key",
            "secrets_set",
            "bot_open_id",
            "domain",
            "alert_chat_id",
            "is_active",
            "event_url",
            "card_url",
            "last_checked_at",
            "last_check",
            "created_at",
        ]
        read_only_fields = ["id", "last_checked_at", "last_check", "created_at"]
        # Uniqueness is checked by the service (across tenants, without saying whose).
        validators: list = []

    def get_secrets_set(self, app: FeishuApp) -> dict[str, bool]:
        return {name: bool(getattr(app, name)) for name in SECRET_FIELDS}

    def _url(self, name: str, app: FeishuApp) -> str:
        path = reverse(name, kwargs={"app_id": app.app_id})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_event_url(self, app: FeishuApp) -> str:
        return self._url("feishu-events", app)

    def get_card_url(self, app: FeishuApp) -> str:
        return self._url("feishu-cards", app)


class ConnectionCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    missing_scopes = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(allow_blank=True)
