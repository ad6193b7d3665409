"""/api/v1/feishu/apps/: a tenant's Feishu apps, for tenant administrators."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from feishu import selectors, services
from feishu.api.serializers import ConnectionCheckSerializer, FeishuAppSerializer
from feishu.models import FeishuApp
from helpdesk.api.permissions import IsTenantAdmin
from helpdesk.api.views import TenantModelViewSet


class FeishuAppViewSet(TenantModelViewSet):
    serializer_class = FeishuAppSerializer
    permission_classes = [IsTenantAdmin]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.apps_for_tenant()

    def perform_create(self, serializer: FeishuAppSerializer) -> None:
        serializer.instance = services.feishu_app_create(**serializer.validated_data)

    def perform_update(self, serializer: FeishuAppSerializer) -> None:
        serializer.instance = services.feishu_app_update(
            app=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: FeishuApp) -> None:
        services.feishu_app_delete(app=instance)

    @extend_schema(
        summary="Check the connection: fetch a token and list missing permissions",
        request=None,
        responses=ConnectionCheckSerializer,
    )
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str | None = None) -> Response:
        result = services.feishu_app_check(app=self.get_object())
        return Response(ConnectionCheckSerializer(result).data)
