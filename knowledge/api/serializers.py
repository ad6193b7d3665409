"""Serializers of the knowledge API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.api.fields import IdField
from helpdesk.spreadsheets import FILE_FORMATS
from knowledge import entries, services
from knowledge.models import SIMILAR_MAX, ImportJob, KnowledgeEntry
from knowledge.search import MAX_LIMIT
from knowledge.similar_questions import MAX_PER_ENTRY

MAX_QUERY_CHARS = 10_000
MAX_VOCABULARY_ITEMS = 5000


def inline_choices(choices, **kwargs) -> serializers.ChoiceField:
    """A read-only choice field documented inline (no shared enum component to collide)."""
    field_class = extend_schema_field({"type": "string", "enum": [value for value, _l in choices]})(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **({"read_only": True} | kwargs))


def similar_questions_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=SIMILAR_MAX, allow_blank=False),
        max_length=MAX_PER_ENTRY,
        help_text=gettext_lazy("Other wordings of the question (相似问法), searched like it."),
        **kwargs,
    )


class EntrySerializer(serializers.ModelSerializer):
    source = inline_choices(KnowledgeEntry.Source.choices)
    similar_questions = serializers.SerializerMethodField()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=entries.MAX_TAG_CHARS, allow_blank=False),
        max_length=entries.MAX_TAGS,
        required=False,
    )

    class Meta:
        model = KnowledgeEntry
        fields = [
            "id",
            "question",
            "similar_questions",
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

    @extend_schema_field({"type": "array", "items": {"type": "string"}})
    def get_similar_questions(self, entry: KnowledgeEntry) -> list[str]:
        return [similar.text for similar in entry.similar_questions.all()]


class EntryCreateSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=1000)
    answer = serializers.CharField(max_length=20000)
    category = serializers.CharField(max_length=64, allow_blank=True, required=False, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=entries.MAX_TAG_CHARS),
        max_length=entries.MAX_TAGS,
        required=False,
        default=list,
    )
    verified = serializers.BooleanField(required=False, default=False)
    similar_questions = similar_questions_field(required=False, default=list)


class EntryUpdateSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=1000, required=False)
    answer = serializers.CharField(max_length=20000, required=False)
    category = serializers.CharField(max_length=64, allow_blank=True, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=entries.MAX_TAG_CHARS),
        max_length=entries.MAX_TAGS,
        required=False,
    )
    is_active = serializers.BooleanField(required=False)
    similar_questions = similar_questions_field(required=False)


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


class EmbeddingRunSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    at = serializers.FloatField(help_text=gettext_lazy("Unix time of the latest progress."))


class EmbeddingStatusSerializer(serializers.Serializer):
    configured = serializers.BooleanField()
    model = serializers.CharField()
    texts = serializers.IntegerField(help_text=gettext_lazy("Questions and similar questions."))
    embedded = serializers.IntegerField(help_text=gettext_lazy("Of those, embedded."))
    last_run = EmbeddingRunSerializer(allow_null=True)


class StatsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    active = serializers.IntegerField()
    verified = serializers.IntegerField()
    verified_share = serializers.FloatField()
    never_used = serializers.IntegerField()
    by_category = CategoryCountSerializer(many=True)
    most_used = UsedEntrySerializer(many=True)
    embedding = EmbeddingStatusSerializer()
