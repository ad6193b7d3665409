"""GET/PATCH /api/v1/config/: the effective configuration, for platform admins."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api.permissions import IsPlatformAdmin
from helpdesk.config import ConfigError, Source, get_config


class ConfigEntrySerializer(serializers.Serializer):
    key = serializers.CharField()
    section = serializers.CharField()
    value = serializers.JSONField(allow_null=True)
    source = serializers.ChoiceField(choices=[s.value for s in Source])
    type = serializers.CharField()
    secret = serializers.BooleanField()
    env_var = serializers.CharField()
    description = serializers.CharField()


class ConfigView(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(responses=ConfigEntrySerializer(many=True), summary="Effective configuration")
    def get(self, request):
        return Response(get_config().describe())

    @extend_schema(
        request=inline_serializer(
            "ConfigUpdate", {"values": serializers.DictField(child=serializers.JSONField())}
        ),
        responses=ConfigEntrySerializer(many=True),
        summary="Change file-level values",
        description=(
            "Writes the given keys to system_settings.json. A key also set in the environment "
            "keeps its environment value; the response says which source wins."
        ),
    )
    def patch(self, request):
        values = request.data.get("values") if isinstance(request.data, dict) else None
        if not isinstance(values, dict) or not values:
            raise ValidationError({"values": [_("Send an object of key: value pairs.")]})
        config = get_config()
        errors = {}
        for key, value in values.items():
            try:
                config.declaration(key).coerce(value)
            except ConfigError as exc:
                errors[key] = [str(exc)]
        if errors:
            raise ValidationError(errors)
        config.update(values)
        return Response(config.describe())
