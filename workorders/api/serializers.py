"""Serializers of the work-order API: output, input and filters."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from accounts.models import User
from helpdesk.api.fields import BoundedDateTimeField, IdField
from helpdesk.spreadsheets import FILE_FORMATS
from workorders import rules, selectors
from workorders.api.fields import (
    CommaChoicesField,
    DateOrDateTimeField,
    ExtraField,
    JSONObjectOrNullField,
    TenantUserField,
)
from workorders.models import WorkOrder, WorkOrderEvent


class UserBriefSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user: User) -> str:
        return user.get_full_name() or user.username


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
        return list(rules.allowed_transitions(work_order.status))


class WorkOrderCreateSerializer(serializers.ModelSerializer):
    assignee = TenantUserField(allow_null=True, required=False)
    extra = ExtraField(required=False)
    due_at = BoundedDateTimeField(allow_null=True, required=False)
    source = serializers.ChoiceField(choices=WorkOrder.Source.choices, default=WorkOrder.Source.API)

    class Meta:
        model = WorkOrder
        fields = [*rules.CREATE_FIELDS, "source"]


class WorkOrderUpdateSerializer(serializers.ModelSerializer):
    assignee = TenantUserField(allow_null=True, required=False)
    extra = ExtraField(required=False)
    due_at = BoundedDateTimeField(allow_null=True, required=False)
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices, required=False)

    class Meta:
        model = WorkOrder
        fields = [*rules.CREATE_FIELDS, "status", "resolution", "satisfaction"]
        extra_kwargs = {name: {"required": False} for name in rules.CREATE_FIELDS}


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices)
    note = serializers.CharField(
        max_length=rules.MAX_NOTE_LENGTH, allow_blank=True, required=False, default=""
    )


class AssignSerializer(serializers.Serializer):
    assignee = TenantUserField(allow_null=True, help_text=gettext_lazy("User id, or null."))


class CommentSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=rules.MAX_COMMENT_LENGTH)
    internal = serializers.BooleanField(
        default=True,
        help_text=gettext_lazy("True: internal note for staff; false: reply to the requester."),
    )


class BulkIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IdField(),
        min_length=1,
        max_length=rules.MAX_BULK_IDS,
    )


class BulkTransitionSerializer(BulkIdsSerializer):
    status = serializers.ChoiceField(choices=WorkOrder.Status.choices)
    note = serializers.CharField(
        max_length=rules.MAX_NOTE_LENGTH, allow_blank=True, required=False, default=""
    )


class BulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=gettext_lazy("An .xlsx or .csv file."))


class ImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    numbers = serializers.ListField(child=serializers.CharField())


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
