"""/api/v1/knowledge/: thin views over the knowledge services, selectors and search."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from helpdesk.api.fields import IdField
from helpdesk.api.permissions import IsTenantAdmin, ReadOrAgent
from helpdesk.api.views import TenantModelViewSet, TenantReadOnlyViewSet
from helpdesk.config import get_config
from helpdesk.spreadsheets import FILE_FORMATS, FILE_RESPONSES, safe_cell, spreadsheet_response
from knowledge import importing, selectors, services
from knowledge.models import CustomWord, ImportJob, KnowledgeEntry, SynonymGroup
from knowledge.search import MAX_LIMIT, search
from knowledge.tasks import run_import

MAX_QUERY_CHARS = 10_000
MAX_VOCABULARY_ITEMS = 5000
# The largest primary key (BigAutoField); a bigger id is bad input, not a database error.


# Serializers -----------------------------------------------------------------------------------


def inline_choices(choices, **kwargs) -> serializers.ChoiceField:
    """A read-only choice field documented inline (no shared enum component to collide)."""
    field_class = extend_schema_field({"type": "string", "enum": [value for value, _l in choices]})(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **({"read_only": True} | kwargs))


class EntrySerializer(serializers.ModelSerializer):
    source = inline_choices(KnowledgeEntry.Source.choices)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_TAG_CHARS, allow_blank=False),
        max_length=services.MAX_TAGS,
        required=False,
    )

    class Meta:
        model = KnowledgeEntry
        fields = [
            "id",
            "question",
            "answer",
            "category",
            "tags",
            "source",
            "source_document",
            "source_position",
            "verified",
            "verified_by",
            "verified_at",
            "is_active",
            "usage_count",
            "last_used_at",
            "work_order",
            "created_by",
            "updated_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "source",
            "source_document",
            "source_position",
            "verified",
            "verified_by",
            "verified_at",
            "usage_count",
            "last_used_at",
            "work_order",
            "created_by",
            "updated_by",
            "created_at",
            "updated_at",
        ]


class EntryCreateSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=1000)
    answer = serializers.CharField(max_length=20000)
    category = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_TAG_CHARS),
        max_length=services.MAX_TAGS,
        required=False,
        default=list,
    )
    verified = serializers.BooleanField(required=False, default=False)


class EntryUpdateSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=1000, required=False)
    answer = serializers.CharField(max_length=20000, required=False)
    category = serializers.CharField(max_length=64, allow_blank=True, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_TAG_CHARS),
        max_length=services.MAX_TAGS,
        required=False,
    )
    is_active = serializers.BooleanField(required=False)


class EntryFilterSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=64, required=False, default="")
    verified = serializers.BooleanField(required=False, allow_null=True, default=None)
    is_active = serializers.BooleanField(required=False, allow_null=True, default=None)
    source = inline_choices(
        KnowledgeEntry.Source.choices, read_only=False, required=False, default=""
    )
    q = serializers.CharField(
        max_length=200,
        required=False,
        default="",
        help_text=gettext_lazy("Text in the question or answer (plain match; use search/)."),
    )


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=MAX_QUERY_CHARS, allow_blank=True, trim_whitespace=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=5)
    verified_only = serializers.BooleanField(default=False)
    category = serializers.CharField(max_length=64, required=False, default="")


class SearchHitSerializer(serializers.Serializer):
    entry = EntrySerializer()
    score = serializers.FloatField(help_text=gettext_lazy("0..1; compare with the threshold."))
    snippet = serializers.CharField(help_text=gettext_lazy("HTML-escaped, matches in <mark>."))
    answers = serializers.BooleanField(
        help_text=gettext_lazy("The score reaches knowledge.answer_threshold.")
    )


class KnowledgeBulkIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=IdField(),
        min_length=1,
        max_length=services.MAX_BULK_IDS,
    )


class KnowledgeBulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class FromWorkOrderSerializer(serializers.Serializer):
    work_order = serializers.IntegerField(min_value=1)
    verified = serializers.BooleanField(default=False)


class FileFormatSerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=FILE_FORMATS, default="csv")


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        max_length=20,
        help_text=gettext_lazy("One or more files: .csv/.xlsx (Q&A) or .txt/.md/.docx/.pdf."),
    )


class ImportJobSerializer(serializers.ModelSerializer):
    kind = inline_choices(ImportJob.Kind.choices)
    status = inline_choices(ImportJob.Status.choices)
    progress = serializers.IntegerField(read_only=True)
    errors = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "file_sha256",
            "status",
            "progress",
            "total",
            "processed",
            "created_count",
            "skipped_count",
            "errors",
            "created_by",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class VocabularySerializer(serializers.Serializer):
    words = serializers.ListField(
        child=serializers.CharField(max_length=48), max_length=MAX_VOCABULARY_ITEMS
    )
    synonyms = serializers.ListField(
        child=serializers.ListField(
            child=serializers.CharField(max_length=48),
            min_length=2,
            max_length=services.MAX_SYNONYM_TERMS,
        ),
        max_length=MAX_VOCABULARY_ITEMS,
        help_text=gettext_lazy("Groups of terms; the first term of a group is canonical."),
    )


class CategoryCountSerializer(serializers.Serializer):
    category = serializers.CharField()
    count = serializers.IntegerField()
    verified = serializers.IntegerField()


class UsedEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    question = serializers.CharField()
    usage_count = serializers.IntegerField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class StatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()
    verified = serializers.IntegerField()
    verified_share = serializers.FloatField()
    never_used = serializers.IntegerField()
    by_category = CategoryCountSerializer(many=True)
    most_used = UsedEntrySerializer(many=True)


def _query(request, serializer_class):
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# Views -----------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List knowledge entries",
        parameters=[EntryFilterSerializer],
        responses=EntrySerializer(many=True),
    ),
    retrieve=extend_schema(summary="A knowledge entry"),
    create=extend_schema(
        summary="Create a knowledge entry",
        request=EntryCreateSerializer,
        responses={201: EntrySerializer},
    ),
    partial_update=extend_schema(
        summary="Change a knowledge entry",
        description="A changed question or answer removes the verification.",
        request=EntryUpdateSerializer,
        responses=EntrySerializer,
    ),
    destroy=extend_schema(summary="Delete a knowledge entry (tenant admin)"),
)
class KnowledgeEntryViewSet(TenantModelViewSet):
    permission_classes = [ReadOrAgent]
    serializer_class = EntrySerializer
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return KnowledgeEntry.objects.all()

    def get_permissions(self):
        if self.action == "destroy":
            return [IsTenantAdmin()]
        return super().get_permissions()

    def list(self, request, *args, **kwargs):
        queryset = selectors.entry_list(**_query(request, EntryFilterSerializer))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(EntrySerializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        serializer = EntryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.entry_create(actor=request.user, **serializer.validated_data)
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        entry = self.get_object()
        serializer = EntryUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        entry = services.entry_update(entry=entry, actor=request.user, **serializer.validated_data)
        return Response(EntrySerializer(entry).data)

    @extend_schema(
        summary="Search the knowledge base",
        description="Chinese-aware ranked search; any text is accepted.",
        parameters=[SearchQuerySerializer],
        responses=SearchHitSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def search(self, request):
        params = _query(request, SearchQuerySerializer)
        hits = search(
            params["q"],
            limit=params["limit"],
            verified_only=params["verified_only"],
            category=params["category"] or None,
        )
        threshold = get_config().get("knowledge.answer_threshold")
        data = [
            {
                "entry": EntrySerializer(hit.entry).data,
                "score": hit.score,
                "snippet": hit.snippet,
                "answers": hit.score >= threshold,
            }
            for hit in hits
        ]
        return Response(data)

    @extend_schema(summary="Verify an entry", request=None, responses=EntrySerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        entry = services.entry_verify(entry=self.get_object(), actor=request.user)
        return Response(EntrySerializer(entry).data)

    @extend_schema(summary="Take the verification away", request=None, responses=EntrySerializer)
    @action(detail=True, methods=["post"])
    def unverify(self, request, pk=None):
        entry = services.entry_unverify(entry=self.get_object(), actor=request.user)
        return Response(EntrySerializer(entry).data)

    @extend_schema(
        summary="Verify many entries (all or none)",
        request=KnowledgeBulkIdsSerializer,
        responses=KnowledgeBulkResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="bulk-verify")
    def bulk_verify(self, request):
        serializer = KnowledgeBulkIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.entries_verify(
            entry_ids=serializer.validated_data["ids"], actor=request.user
        )
        return Response({"count": count})

    @extend_schema(
        summary="Deactivate many entries (all or none)",
        request=KnowledgeBulkIdsSerializer,
        responses=KnowledgeBulkResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="bulk-deactivate")
    def bulk_deactivate(self, request):
        serializer = KnowledgeBulkIdsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        count = services.entries_deactivate(
            entry_ids=serializer.validated_data["ids"], actor=request.user
        )
        return Response({"count": count})

    @extend_schema(summary="Knowledge-base statistics", responses=StatsSerializer)
    @action(detail=False, methods=["get"])
    def stats(self, request):
        return Response(StatsSerializer(selectors.knowledge_stats()).data)

    @extend_schema(
        summary="Export entries (CSV or XLSX, importable again)",
        parameters=[EntryFilterSerializer, FileFormatSerializer],
        responses=FILE_RESPONSES,
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        file_format = _query(request, FileFormatSerializer)["file_format"]
        queryset = selectors.entry_list(**_query(request, EntryFilterSerializer)).order_by("id")
        return export_response(queryset, file_format)

    @extend_schema(
        summary="Import template (CSV or XLSX)",
        parameters=[FileFormatSerializer],
        responses=FILE_RESPONSES,
    )
    @action(detail=False, methods=["get"], url_path="import-template")
    def import_template(self, request):
        return importing.template_response(_query(request, FileFormatSerializer)["file_format"])

    @extend_schema(
        summary="Upload files to import (runs in the background)",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={202: ImportJobSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_files(self, request):
        files = request.FILES.getlist("file")
        if not files:
            raise ValidationError({"file": [_("Attach at least one file.")]})
        if len(files) > 20:
            raise ValidationError({"file": [_("At most 20 files at once.")]})
        for upload in files:
            importing.check_upload(file_name=upload.name, size=upload.size)
        jobs = [
            importing.import_create(file_name=f.name, content=f.read(), actor=request.user)
            for f in files
        ]
        for job in jobs:
            run_import.enqueue(tenant_id=request.tenant.pk, job_id=job.pk)
        fresh = ImportJob.objects.filter(pk__in=[job.pk for job in jobs]).order_by("id")
        return Response(ImportJobSerializer(fresh, many=True).data, status=status.HTTP_202_ACCEPTED)

    def _vocabulary(self) -> Response:
        return Response(
            {
                "words": list(CustomWord.objects.order_by("word").values_list("word", flat=True)),
                "synonyms": list(
                    SynonymGroup.objects.order_by("id").values_list("terms", flat=True)
                ),
            }
        )

    @extend_schema(
        methods=["GET"],
        summary="The tenant's dictionary and synonyms",
        responses=VocabularySerializer,
    )
    @extend_schema(
        methods=["POST"],
        summary="Replace the dictionary and synonyms (tenant admin; re-indexes in the background)",
        request=VocabularySerializer,
        responses=VocabularySerializer,
    )
    @action(detail=False, methods=["get", "post"])
    def vocabulary(self, request):
        if request.method == "POST":
            if not IsTenantAdmin().has_permission(request, self):
                self.permission_denied(request)
            serializer = VocabularySerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            services.vocabulary_replace(**serializer.validated_data)
        return self._vocabulary()

    @extend_schema(
        summary="Make an entry from a resolved work order",
        request=FromWorkOrderSerializer,
        responses={201: EntrySerializer},
    )
    @action(detail=False, methods=["post"], url_path="from-workorder")
    def from_workorder(self, request):
        from workorders.models import WorkOrder

        serializer = FromWorkOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        work_order = WorkOrder.objects.filter(pk=serializer.validated_data["work_order"]).first()
        if work_order is None:
            raise ValidationError({"work_order": [_("No such work order.")]})
        entry = services.entry_create_from_workorder(
            work_order=work_order,
            actor=request.user,
            verified=serializer.validated_data["verified"],
        )
        return Response(EntrySerializer(entry).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="Knowledge imports, newest first"),
    retrieve=extend_schema(summary="An import: status, progress and result"),
)
class KnowledgeImportViewSet(TenantReadOnlyViewSet):
    permission_classes = [ReadOrAgent]
    serializer_class = ImportJobSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return ImportJob.objects.defer("content")


EXPORT_HEADERS = [names[0] for names in importing.COLUMNS.values()] + ["已审核", "使用次数"]


def export_response(queryset, file_format: str) -> HttpResponse:
    rows = [EXPORT_HEADERS]
    for entry in queryset.iterator(chunk_size=2000):
        rows.append(
            [
                safe_cell(entry.question),
                safe_cell(entry.answer),
                safe_cell(entry.category),
                safe_cell(",".join(entry.tags)),
                "1" if entry.verified else "0",
                str(entry.usage_count),
            ]
        )
    filename = f"knowledge-{timezone.localtime():%Y%m%d-%H%M%S}"
    return spreadsheet_response(rows, filename, file_format)
