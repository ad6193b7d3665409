"""/api/v1/knowledge/: thin views over the knowledge services, selectors and search."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from helpdesk.api.permissions import IsTenantAdmin, ReadOrAgent
from helpdesk.api.views import TenantModelViewSet, TenantReadOnlyViewSet
from helpdesk.config import get_config
from helpdesk.spreadsheets import FILE_RESPONSES
from knowledge import import_jobs, importing, selectors, services
from knowledge.api.serializers import (
    EntryCreateSerializer,
    EntryFilterSerializer,
    EntrySerializer,
    EntryUpdateSerializer,
    FileFormatSerializer,
    FromWorkOrderSerializer,
    ImportJobSerializer,
    ImportUploadSerializer,
    KnowledgeBulkIdsSerializer,
    KnowledgeBulkResultSerializer,
    SearchHitSerializer,
    SearchQuerySerializer,
    StatsSerializer,
    VocabularySerializer,
)
from knowledge.exporting import export_response
from knowledge.models import CustomWord, ImportJob, KnowledgeEntry, SynonymGroup
from knowledge.search import search
from knowledge.tasks import run_import
from workorders.models import WorkOrder


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
        return KnowledgeEntry.objects.prefetch_related("similar_questions")

    def get_permissions(self):
        if self.action == "destroy":
            return [IsTenantAdmin()]
        return super().get_permissions()

    def list(self, request, *args, **kwargs):
        queryset = selectors.entry_list(**_query(request, EntryFilterSerializer))
        page = self.paginate_queryset(queryset.prefetch_related("similar_questions"))
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
        for upload in files:  # before reading any file
            importing.check_upload(file_name=upload.name, size=upload.size)
        import_jobs.check_queue(new_jobs=len(files))
        jobs = importing.imports_create(
            files=[(upload.name, upload.read()) for upload in files], actor=request.user
        )
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
