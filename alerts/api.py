"""/api/v1/alerts/ and /api/v1/alert-rules/: thin views over the alert services and selectors."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from alerts import selectors, services
from alerts.models import (
    MAX_WINDOW_MINUTES,
    Alert,
    AlertNotification,
    AlertRule,
    Comparison,
    Level,
)
from alerts.registry import Unit, all_metrics
from helpdesk.api.fields import IdField
from helpdesk.api.permissions import IsTenantMember, ReadOrAgent
from helpdesk.api.views import TenantGenericViewSet, TenantModelViewSet
from helpdesk.roles import Role

ALERT_ORDERING = ["last_seen_at", "-last_seen_at", "first_seen_at", "-first_seen_at", "level"]


class ReadOrTenantAdmin(BasePermission):
    """Every member reads; only tenant admins write (alert rules are configuration)."""

    def has_permission(self, request, view) -> bool:
        if not IsTenantMember().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or request.user.has_role(Role.TENANT_ADMIN)


# Alerts ----------------------------------------------------------------------------------------


class AlertSerializer(serializers.ModelSerializer):
    metric = serializers.CharField(read_only=True, help_text=_("Empty for manual alerts."))
    unit = serializers.CharField(
        read_only=True, help_text=_("Unit of value and threshold; empty for manual alerts.")
    )
    comparison = serializers.CharField(
        read_only=True, help_text=_("gt, gte, lt or lte; empty for manual alerts.")
    )
    value_display = serializers.SerializerMethodField()
    threshold_display = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "source",
            "level",
            "status",
            "title",
            "message",
            "metric",
            "unit",
            "comparison",
            "value",
            "threshold",
            "value_display",
            "threshold_display",
            "first_seen_at",
            "last_seen_at",
            "count",
            "created_by",
            "acknowledged_by",
            "acknowledged_at",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        ]
        read_only_fields = fields

    def get_value_display(self, alert: Alert) -> str | None:
        return alert.in_unit(alert.value)

    def get_threshold_display(self, alert: Alert) -> str | None:
        return alert.in_unit(alert.threshold)


class AlertNotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertNotification
        fields = ["id", "alert", "event", "channel", "message", "created_at"]
        read_only_fields = fields


class AlertCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    message = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    level = serializers.ChoiceField(choices=Level.choices, default=Level.WARNING)


class AlertResolveSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=services.MAX_NOTE_LENGTH, required=False, allow_blank=True, default=""
    )


class AlertFilterSerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(
        choices=Alert.Status.choices, required=False, help_text=_("Repeat for several.")
    )
    level = serializers.MultipleChoiceField(
        choices=Level.choices, required=False, help_text=_("Repeat for several.")
    )
    source = serializers.ChoiceField(choices=Alert.Source.choices, required=False)
    rule = IdField(required=False)
    metric = serializers.CharField(required=False, max_length=100)
    open = serializers.BooleanField(required=False, allow_null=True, default=None)
    seen_after = serializers.DateTimeField(required=False)
    seen_before = serializers.DateTimeField(required=False)
    q = serializers.CharField(required=False, max_length=200)
    ordering = serializers.ChoiceField(
        choices=ALERT_ORDERING, required=False, default="-last_seen_at"
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # Query parameters: lists for the multiple-choice fields, scalars for the rest.
        if hasattr(data, "getlist"):
            data = {
                key: data.getlist(key) if key in ("status", "level") else data.get(key)
                for key in data
            }
        return super().to_internal_value(data)


class AlertStatisticsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = inline_serializer(
        "AlertCountsByStatus",
        {status: serializers.IntegerField() for status in Alert.Status.values},
    )
    by_level = inline_serializer(
        "AlertCountsByLevel", {level: serializers.IntegerField() for level in Level.values}
    )
    open_by_level = inline_serializer(
        "OpenAlertCountsByLevel", {level: serializers.IntegerField() for level in Level.values}
    )


@extend_schema_view(
    list=extend_schema(summary="List alerts", parameters=[AlertFilterSerializer]),
    retrieve=extend_schema(summary="An alert"),
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantGenericViewSet):
    serializer_class = AlertSerializer
    permission_classes = [ReadOrAgent]

    def get_queryset(self):
        if self.action in ("list", "statistics"):
            params = AlertFilterSerializer(data=self.request.query_params)
            params.is_valid(raise_exception=True)
            filters = dict(params.validated_data)
            for key in ("status", "level"):
                if key in filters:
                    filters[key] = sorted(filters[key])
            return selectors.alerts_filter(**filters)
        return Alert.objects.all()

    @extend_schema(
        summary="Raise an alert by hand",
        request=AlertCreateSerializer,
        responses={201: AlertSerializer},
    )
    def create(self, request: Request) -> Response:
        payload = AlertCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alert = services.alert_create_manual(actor=request.user, **payload.validated_data)
        return Response(AlertSerializer(alert).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Counts by status and level",
        parameters=[AlertFilterSerializer],
        responses=AlertStatisticsSerializer,
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def statistics(self, request: Request) -> Response:
        return Response(selectors.alert_statistics(self.get_queryset()))

    @extend_schema(
        summary="The in-app notifications (alerts opened and resolved), newest first",
        responses=AlertNotificationSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def notifications(self, request: Request) -> Response:
        rows = AlertNotification.objects.order_by("-created_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(AlertNotificationSerializer(page, many=True).data)

    @extend_schema(summary="Acknowledge an active alert", request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        alert = services.alert_acknowledge(alert=self.get_object(), actor=request.user)
        return Response(AlertSerializer(alert).data)

    @extend_schema(
        summary="Resolve an open alert, with an optional note",
        request=AlertResolveSerializer,
        responses=AlertSerializer,
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        alert = self.get_object()
        payload = AlertResolveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        alert = services.alert_resolve(
            alert=alert, actor=request.user, note=payload.validated_data["note"]
        )
        return Response(AlertSerializer(alert).data)


# Rules -----------------------------------------------------------------------------------------


@extend_schema_field(
    {"type": "string", "description": "A metric name from /api/v1/alert-rules/metrics/."}
)
class MetricChoiceField(serializers.ChoiceField):
    """The registered metrics, read when the serializer is built (after autodiscovery)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[(m.name, str(m.label)) for m in all_metrics()], **kwargs)


class AlertRuleSerializer(serializers.ModelSerializer):
    metric = MetricChoiceField()
    comparison = serializers.ChoiceField(choices=Comparison.choices)
    level = serializers.ChoiceField(choices=Level.choices, default=Level.WARNING)
    threshold = serializers.FloatField(
        help_text=_("In the metric's unit (see `unit`): a ratio 0..1, milliseconds, CNY...")
    )
    window_minutes = serializers.IntegerField(min_value=1, max_value=MAX_WINDOW_MINUTES, default=60)
    cooldown_minutes = serializers.IntegerField(
        min_value=0, max_value=MAX_WINDOW_MINUTES, default=30
    )
    unit_label = serializers.SerializerMethodField()
    threshold_display = serializers.SerializerMethodField()

    class Meta:
        model = AlertRule
        fields = [
            "id",
            "name",
            "description",
            "metric",
            "comparison",
            "threshold",
            "unit",
            "unit_label",
            "threshold_display",
            "window_minutes",
            "level",
            "cooldown_minutes",
            "enabled",
            "auto_resolve",
            "last_evaluated_at",
            "last_value",
            "last_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "unit",
            "last_evaluated_at",
            "last_value",
            "last_error",
            "created_at",
            "updated_at",
        ]
        # Uniqueness is checked by the service, inside the tenant's scope.
        validators: list = []

    def get_unit_label(self, rule: AlertRule) -> str:
        return str(Unit(rule.unit).label)

    def get_threshold_display(self, rule: AlertRule) -> str:
        return Unit(rule.unit).format(rule.threshold)


class MetricSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.ChoiceField(choices=[(u.value, u.value) for u in Unit])
    unit_label = serializers.CharField()


@extend_schema_view(
    list=extend_schema(summary="List alert rules"),
    retrieve=extend_schema(summary="An alert rule"),
    create=extend_schema(summary="Create an alert rule (tenant admin)"),
    update=extend_schema(summary="Replace an alert rule (tenant admin)"),
    partial_update=extend_schema(summary="Change an alert rule (tenant admin)"),
    destroy=extend_schema(summary="Delete an alert rule (tenant admin)"),
)
class AlertRuleViewSet(TenantModelViewSet):
    serializer_class = AlertRuleSerializer
    permission_classes = [ReadOrTenantAdmin]

    def get_queryset(self):
        return AlertRule.objects.order_by("name", "id")

    def perform_create(self, serializer: AlertRuleSerializer) -> None:
        serializer.instance = services.alert_rule_create(**serializer.validated_data)

    def perform_update(self, serializer: AlertRuleSerializer) -> None:
        serializer.instance = services.alert_rule_update(
            rule=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: AlertRule) -> None:
        services.alert_rule_delete(rule=instance)

    @extend_schema(
        summary="The metrics a rule can watch, with their units",
        responses=MetricSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def metrics(self, request: Request) -> Response:
        rows = [
            {
                "name": m.name,
                "label": str(m.label),
                "unit": m.unit.value,
                "unit_label": str(m.unit.label),
            }
            for m in all_metrics()
        ]
        return Response(MetricSerializer(rows, many=True).data)
