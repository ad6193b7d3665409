"""/api/v1/workorders/: thin views over the work-order services and selectors."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import User
from helpdesk.api.fields import IdField
from helpdesk.api.permissions import IsTenantAdmin, ReadOrAgent
from helpdesk.api.views import TenantModelViewSet
from helpdesk.config import get_config
from helpdesk.spreadsheets import FILE_FORMATS, FILE_RESPONSES
from helpdesk.tenancy import current_tenant
from workorders import exporting, importing, selectors, services
from workorders.models import WorkOrder, WorkOrderEvent

# The largest primary key (BigAutoField); a bigger id is bad input, not a database error.


# Serializers: output ---------------------------------------------------------------------------


class UserBriefSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username


@extend_schema_field({"type": ["object", "null"], "additionalProperties": True})
class JSONObjectOrNullField(serializers.JSONField):
    pass


@extend_schema_field({"type": "object", "additionalProperties": True})
class ExtraField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> dict:
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise ValidationError(_("Extra attributes must be a JSON object."))
        return data


class WorkOrderEventSerializer(serializers.ModelSerializer):
    actor = UserBriefSerializer(read_only=True, allow_null=True)
    before = JSONObjectOrNullField(read_only=True, allow_null=True)
    after = JSONObjectOrNullField(read_only=True, allow_null=True)

    class Meta:
        model = WorkOrderEvent
        fields = ["id", "kind", "actor", "before", "after", "body", "internal", "created_at"]
        read_only_fields = fields


class WorkOrderListSerializer(serializers.ModelSerializer):
    assignee = UserBriefSerializer(read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "number",
            "title",
            "category",
            "priority",
            "status",
            "source",
            "assignee",
            "requester_name",
            "vin",
            "module",
            "region",
            "satisfaction",
            "due_at",
            "is_overdue",
            "created_at",
            "updated_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_is_overdue(self, work_order: WorkOrder) -> bool:
        return work_order.is_overdue()


class WorkOrderDetailSerializer(WorkOrderListSerializer):
    extra = ExtraField(read_only=True)
    allowed_transitions = serializers.SerializerMethodField()
    timeline = WorkOrderEventSerializer(source="events", many=True, read_only=True)

    class Meta(WorkOrderListSerializer.Meta):
        fields = [
            *WorkOrderListSerializer.Meta.fields,
            "description",
            "requester_contact",
            "requester_external_id",
            "extra",
            "resolution",
            "allowed_transitions",
            "timeline",
        ]
        read_only_fields = fields

    def get_allowed_transitions(self, work_order: WorkOrder) -> list[str]:
        return list(services.allowed_transitions(work_order.status))


# Serializers: input ----------------------------------------------------------------------------


class TenantUserField(serializers.PrimaryKeyRelatedField):
    """A user id of the active tenant; another tenant's id is "does not exist"."""

    queryset = User.objects.all()

    def get_queryset(self):
        return User.objects.filter(tenant=current_tenant(), is_active=True)


class WorkOrderCreateSerializer(serializers.ModelSerializer):
    assignee = TenantUserField(allow_null=True, required=False)
    extra = ExtraField(required=False)
    source = serializers.ChoiceField(choices=WorkOrder.Source.choices, default=WorkOrder.Source.API)

    class Meta:
        model = WorkOrder
        fields = [*services.CREATE_FIELDS, "source"]


class WorkOrderUpdateSerializer(serializers.ModelSerializer):
    assignee = TenantUserField(allow_null=True, required=False)
    extra = ExtraField(required=False)
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices, required=False)

    class Meta:
        model = WorkOrder
        fields = [*services.CREATE_FIELDS, "status", "resolution", "satisfaction"]
        extra_kwargs = {name: {"required": False} for name in services.CREATE_FIELDS}


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices)
    note = serializers.CharField(
        max_length=services.MAX_NOTE_LENGTH, allow_blank=True, required=False, default=""
    )


class AssignSerializer(serializers.Serializer):
    assignee = TenantUserField(allow_null=True, help_text=gettext_lazy("User id, or null."))


class CommentSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=services.MAX_COMMENT_LENGTH)
    internal = serializers.BooleanField(
        default=True,
        help_text=gettext_lazy("True: internal note for staff; false: reply to the requester."),
    )


class BulkIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IdField(),
        min_length=1,
        max_length=services.MAX_BULK_IDS,
    )


class BulkTransitionSerializer(BulkIdsSerializer):
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices)
    note = serializers.CharField(
        max_length=services.MAX_NOTE_LENGTH, allow_blank=True, required=False, default=""
    )


class BulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("An .xlsx or .csv file."))


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    numbers = serializers.ListField(child=serializers.CharField())


@extend_schema_field(OpenApiTypes.STR)
class CommaChoicesField(serializers.Field):
    """One or more choices, comma-separated (status=open,pending)."""

    def __init__(self, choices: list[tuple[str, Any]], **kwargs: Any) -> None:
        self.choice_values = [value for value, _label in choices]
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        values = [part.strip() for part in str(data).split(",") if part.strip()]
        unknown = [value for value in values if value not in self.choice_values]
        if unknown:
            raise ValidationError(
                _("Unknown value(s): %(unknown)s. Allowed: %(allowed)s.")
                % {"unknown": ", ".join(unknown), "allowed": ", ".join(self.choice_values)}
            )
        return values

    def to_representation(self, value: list[str]) -> str:
        return ",".join(value)


@extend_schema_field(OpenApiTypes.STR)
class DateOrDateTimeField(serializers.Field):
    """An ISO date or date-time, as an aware date-time.

    A date is the start of that day or, with `end_of_day`, the start of the next one.
    """

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> datetime:
        text = str(data).strip()
        try:
            value = parse_date(text) if len(text) == 10 else parse_datetime(text)
            if value is not None:
                value = _aware(value, end_of_day=self.end_of_day)
                # The database compares in UTC; a time that has no UTC year (0 or 10000) is bad
                # input, not a server error.
                value.astimezone(UTC)
        except (ValueError, OverflowError):
            value = None
        if value is None:
            raise ValidationError(_("Enter a date (2026-11-26) or date-time (ISO 8601)."))
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


def _aware(value: date | datetime, *, end_of_day: bool = False) -> datetime:
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end_of_day else value
        value = datetime.combine(day, time.min)
    return timezone.make_aware(value) if timezone.is_naive(value) else value


class WorkOrderFilterSerializer(serializers.Serializer):
    status = CommaChoicesField(WorkOrder.Status.choices, required=False)
    priority = CommaChoicesField(WorkOrder.Priority.choices, required=False)
    source = CommaChoicesField(WorkOrder.Source.choices, required=False)
    category = serializers.CharField(max_length=64, required=False)
    module = serializers.CharField(max_length=64, required=False)
    region = serializers.CharField(max_length=64, required=False)
    assignee = serializers.RegexField(
        r"^(me|none|[0-9]{1,18})$",
        required=False,
        help_text=gettext_lazy('A user id, "me" or "none" (unassigned).'),
        error_messages={"invalid": gettext_lazy('Enter a user id, "me" or "none".')},
    )
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    created_after = DateOrDateTimeField(required=False)
    created_before = DateOrDateTimeField(
        end_of_day=True,
        required=False,
        help_text=gettext_lazy("Exclusive; a date includes that whole day."),
    )
    q = serializers.CharField(
        max_length=200,
        required=False,
        help_text=gettext_lazy("Text in the number, title or description."),
    )
    ordering = serializers.ChoiceField(
        choices=list(selectors.ORDERINGS), required=False, default="-created_at"
    )

    def to_filters(self) -> selectors.WorkOrderFilters:
        data = self.validated_data
        return selectors.WorkOrderFilters(
            statuses=data.get("status", []),
            priorities=data.get("priority", []),
            sources=data.get("source", []),
            category=data.get("category", ""),
            module=data.get("module", ""),
            region=data.get("region", ""),
            assignee=data.get("assignee", ""),
            overdue=data.get("overdue"),
            created_after=data.get("created_after"),
            created_before=data.get("created_before"),
            q=data.get("q", ""),
            ordering=data["ordering"],
        )


class ExportFilterSerializer(WorkOrderFilterSerializer):
    file_format = serializers.ChoiceField(choices=FILE_FORMATS, default="csv")


class TemplateSerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=FILE_FORMATS, default="xlsx")


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
