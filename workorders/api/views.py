"""/api/v1/workorders/: thin views over the work-order services and selectors."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from helpdesk.api.permissions import IsTenantAdmin, ReadOrAgent
from helpdesk.api.views import TenantModelViewSet
from helpdesk.config import get_config
from helpdesk.spreadsheets import FILE_RESPONSES
from workorders import exporting, importing, selectors, services
from workorders.api.serializers import (
    AssignSerializer,
    BulkIdsSerializer,
    BulkResultSerializer,
    BulkTransitionSerializer,
    CommentSerializer,
    ExportFilterSerializer,
    ImportResultSerializer,
    ImportSerializer,
    TemplateSerializer,
    TransitionSerializer,
    WorkOrderCreateSerializer,
    WorkOrderDetailSerializer,
    WorkOrderEventSerializer,
    WorkOrderFilterSerializer,
    WorkOrderListSerializer,
    WorkOrderUpdateSerializer,
)
from workorders.models import WorkOrder, WorkOrderEvent


def _query_data(request) -> dict[str, str]:
    params = request.query_params
    return {key: ",".join(params.getlist(key)) for key in params}


# Views -----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List work orders",
        parameters=[WorkOrderFilterSerializer],
        responses=WorkOrderListSerializer(many=True),
    ),
    retrieve=extend_schema(summary="A work order with its timeline"),
    create=extend_schema(
        summary="Create a work order",
        request=WorkOrderCreateSerializer,
        responses={201: WorkOrderDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Change a work order",
        description="`status` follows the allowed transitions; `assignee` must be an agent.",
        request=WorkOrderUpdateSerializer,
        responses=WorkOrderDetailSerializer,
    ),
    destroy=extend_schema(summary="Delete a work order (tenant admin)"),
)
class WorkOrderViewSet(TenantModelViewSet):
    permission_classes = [ReadOrAgent]
    serializer_class = WorkOrderDetailSerializer
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.workorder_detail_queryset()
        return WorkOrder.objects.select_related("assignee")

    def get_permissions(self):
        if self.action in ("destroy", "bulk_delete"):
            return [IsTenantAdmin()]
        return super().get_permissions()

    def _filtered(self, serializer_class=WorkOrderFilterSerializer):
        filters = serializer_class(data=_query_data(self.request))
        filters.is_valid(raise_exception=True)
        queryset = selectors.workorder_list(filters=filters.to_filters(), user=self.request.user)
        return queryset, filters.validated_data

    def _detail(self, work_order: WorkOrder, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.workorder_detail_queryset().get(pk=work_order.pk)
        return Response(WorkOrderDetailSerializer(fresh).data, status=status_code)

    def list(self, request, *args, **kwargs):
        queryset, _data = self._filtered()
        page = self.paginate_queryset(queryset.defer("description", "resolution", "extra"))
        return self.get_paginated_response(WorkOrderListSerializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        serializer = WorkOrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        work_order = services.workorder_create(actor=request.user, **serializer.validated_data)
        return self._detail(work_order, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        work_order = self.get_object()
        serializer = WorkOrderUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.workorder_update(
            work_order=work_order, actor=request.user, **serializer.validated_data
        )
        return self._detail(work_order)

    def destroy(self, request, *args, **kwargs):
        services.workorder_delete(work_order=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Change the status",
        description="Illegal transitions are a 400 that names the allowed ones.",
        request=TransitionSerializer,
        responses=WorkOrderDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        work_order = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.workorder_transition(
            work_order=work_order, actor=request.user, **serializer.validated_data
        )
        return self._detail(work_order)

    @extend_schema(
        summary="Assign (or unassign with null)",
        request=AssignSerializer,
        responses=WorkOrderDetailSerializer,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        work_order = self.get_object()
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.workorder_assign(
            work_order=work_order,
            assignee=serializer.validated_data["assignee"],
            actor=request.user,
        )
        return self._detail(work_order)

    @extend_schema(
        methods=["get"], summary="Comments", responses=WorkOrderEventSerializer(many=True)
    )
    @extend_schema(
        methods=["post"],
        summary="Add a comment (internal note or reply)",
        request=CommentSerializer,
        responses={201: WorkOrderEventSerializer},
    )
    @action(detail=True, methods=["get", "post"])
    def comments(self, request, pk=None):
        work_order = self.get_object()
        if request.method == "GET":
            events = selectors.workorder_timeline(work_order=work_order).filter(
                kind=WorkOrderEvent.Kind.COMMENT
            )
            page = self.paginate_queryset(events)
            return self.get_paginated_response(WorkOrderEventSerializer(page, many=True).data)
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.workorder_comment(
            work_order=work_order, actor=request.user, **serializer.validated_data
        )
        return Response(WorkOrderEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Timeline", responses=WorkOrderEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        events = selectors.workorder_timeline(work_order=self.get_object())
        page = self.paginate_queryset(events)
        return self.get_paginated_response(WorkOrderEventSerializer(page, many=True).data)

    @extend_schema(
        summary="Change the status of several work orders (all or none)",
        request=BulkTransitionSerializer,
        responses=BulkResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="bulk-transition")
    def bulk_transition(self, request):
        serializer = BulkTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = services.workorders_bulk_transition(actor=request.user, **serializer.validated_data)
        return Response({"count": len(rows)})

    @extend_schema(
        summary="Delete several work orders (tenant admin; all or none)",
        request=BulkIdsSerializer,
        responses=BulkResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="bulk-delete")
    def bulk_delete(self, request):
        serializer = BulkIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.workorders_bulk_delete(
            ids=serializer.validated_data["ids"], actor=request.user
        )
        return Response({"count": count})

    @extend_schema(
        summary="Export the filtered list as CSV or XLSX",
        parameters=[ExportFilterSerializer],
        responses=FILE_RESPONSES,
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        queryset, data = self._filtered(ExportFilterSerializer)
        limit = get_config().get("workorders.export_max_rows")
        if queryset.count() > limit:
            raise ValidationError(
                {
                    "non_field_errors": [
                        _("More than %(n)d work orders match; narrow the filters.") % {"n": limit}
                    ]
                }
            )
        return exporting.export_response(queryset, data["file_format"])

    @extend_schema(
        summary="Import work orders from XLSX or CSV (all rows or none)",
        description=(
            "Columns: 标题 (required), 描述, 分类, 优先级 (低/中/高/紧急), 状态 "
            "(待处理/处理中/待反馈/已解决/已关闭), 解决方案, 满意度 (1-5), 提交人, 联系方式, "
            "外部编号, VIN, 模块, 区域, 负责人 (username); English field names work too. Other "
            "columns are kept in `extra`. With bad rows nothing is imported and "
            "error.fields.rows maps each bad row number to its field errors."
        ),
        request={"multipart/form-data": ImportSerializer},
        responses={201: ImportResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_file(self, request):
        serializer = ImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            created = importing.import_file(upload=upload, name=upload.name, actor=request.user)
        except importing.ImportRowsError as exc:
            raise ValidationError(
                {
                    "non_field_errors": exc.messages,
                    "rows": {str(row): errors for row, errors in exc.row_errors.items()},
                }
            ) from exc
        return Response(
            {"created": len(created), "numbers": [w.number for w in created]},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Download the import template",
        parameters=[TemplateSerializer],
        responses=FILE_RESPONSES,
    )
    @action(detail=False, methods=["get"], url_path="import/template")
    def import_template(self, request):
        serializer = TemplateSerializer(data=_query_data(request))
        serializer.is_valid(raise_exception=True)
        return exporting.template_response(
            importing.template_headers(), serializer.validated_data["file_format"]
        )
