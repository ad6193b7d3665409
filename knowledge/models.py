"""Knowledge entries, the tenant's search vocabulary and import jobs.

The search index is not a model field: `question_tokens` and `answer_tokens`
hold the segmented text, and the database indexes them itself (a generated,
GIN-indexed tsvector column on PostgreSQL; an FTS5 table kept in sync by
triggers on SQLite). Both are created in migration 0001.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from helpdesk.tenancy import TenantManager, TenantOwnedModel, TenantQuerySet

FTS_TABLE = "knowledge_entry_fts"
QUESTION_MAX = 1000
ANSWER_MAX = 20000
SIMILAR_MAX = 500


class KnowledgeEntryQuerySet(TenantQuerySet):
    def active(self) -> KnowledgeEntryQuerySet:
        return self.filter(is_active=True)


class KnowledgeEntryManager(TenantManager.from_queryset(KnowledgeEntryQuerySet)):
    pass


class KnowledgeEntry(TenantOwnedModel):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        IMPORT = "import", _("Import")
        WORK_ORDER = "work_order", _("Work order")
        DOCUMENT = "document", _("Document")

    question = models.CharField(_("question"), max_length=QUESTION_MAX)
    answer = models.TextField(_("answer"), max_length=ANSWER_MAX)
    category = models.CharField(_("category"), max_length=64, blank=True, db_index=False)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    source_document = models.CharField(_("source document"), max_length=255, blank=True)
    source_position = models.PositiveIntegerField(_("position in document"), null=True, blank=True)
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    verified = models.BooleanField(_("verified"), default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    usage_count = models.PositiveIntegerField(_("usage count"), default=0)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    work_order = models.ForeignKey(
        "workorders.WorkOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="knowledge_entries",
        verbose_name=_("work order"),
    )
    question_tokens = models.TextField(_("segmented question"), blank=True, editable=False)
    answer_tokens = models.TextField(_("segmented answer"), blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = KnowledgeEntryManager()

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("knowledge entry")
        verbose_name_plural = _("knowledge entries")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "category"], name="knowledge_tenant_category"),
            models.Index(fields=["tenant", "content_hash"], name="knowledge_tenant_hash"),
            models.Index(fields=["tenant", "-updated_at"], name="knowledge_tenant_updated"),
        ]

    def __str__(self) -> str:
        return self.question[:80]


class CustomWord(TenantOwnedModel):
    """A word the segmenter must keep whole (OTA, 数字钥匙, 远程控制)."""

    word = models.CharField(_("word"), max_length=48)
    shipped = models.BooleanField(
        _("from the shipped lexicon"), default=False, help_text=_("Editable like any other.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("dictionary word")
        verbose_name_plural = _("dictionary words")
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "word"], name="knowledge_word_unique")
        ]

    def __str__(self) -> str:
        return self.word


class SynonymGroup(TenantOwnedModel):
    """Terms that mean the same; the first is the canonical one."""

    terms = models.JSONField(_("terms"), default=list)
    shipped = models.BooleanField(
        _("from the shipped lexicon"), default=False, help_text=_("Editable like any other.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("synonym group")
        verbose_name_plural = _("synonym groups")
        ordering = ["id"]

    def __str__(self) -> str:
        return " / ".join(self.terms)


class ImportJob(TenantOwnedModel):
    class Kind(models.TextChoices):
        QA = "qa", _("Q&A table")
        DOCUMENT = "document", _("Document")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    content = models.BinaryField(_("content"), editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField(_("items in file"), default=0)
    processed = models.PositiveIntegerField(_("items processed"), default=0)
    created_count = models.PositiveIntegerField(_("entries created"), default=0)
    skipped_count = models.PositiveIntegerField(_("duplicates skipped"), default=0)
    errors = models.JSONField(_("errors"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("knowledge import")
        verbose_name_plural = _("knowledge imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name

    @property
    def progress(self) -> int:
        """Percent done, 0..100."""
        if self.status in (self.Status.DONE, self.Status.FAILED):
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0


class SimilarQuestion(TenantOwnedModel):
    """Another wording of an entry's question (相似问法), searched like the question."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by staff")
        PROPOSAL = "proposal", _("Approved customer wording")
        IMPORT = "import", _("Import")

    entry = models.ForeignKey(
        KnowledgeEntry,
        on_delete=models.CASCADE,
        related_name="similar_questions",
        verbose_name=_("knowledge entry"),
    )
    text = models.CharField(_("similar question"), max_length=SIMILAR_MAX)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.MANUAL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("similar question")
        verbose_name_plural = _("similar questions")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "text"], name="knowledge_similar_unique")
        ]

    def __str__(self) -> str:
        return self.text[:80]


class EntryVector(TenantOwnedModel):
    """The embedding of an entry's question or of one of its similar questions.

    `vector` holds float32 little-endian bytes, readable everywhere (the in-process
    search of SQLite and of PostgreSQL without pgvector). Where the pgvector extension
    exists, migration 0002 adds an `embedding vector` column with an HNSW index, filled
    from the same values (`knowledge.vectors.pgvector`).
    """

    QUESTION = "q"

    entry = models.ForeignKey(
        KnowledgeEntry, on_delete=models.CASCADE, related_name="vectors", verbose_name=_("entry")
    )
    # "q" for the question, "s<id>" for a similar question.
    text_key = models.CharField(_("text"), max_length=24)
    text_hash = models.CharField(_("text hash"), max_length=64)
    model = models.CharField(_("embedding model"), max_length=120)
    dimensions = models.PositiveSmallIntegerField(_("dimensions"))
    vector = models.BinaryField(_("vector"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("entry vector")
        verbose_name_plural = _("entry vectors")
        constraints = [
            models.UniqueConstraint(fields=["entry", "text_key"], name="knowledge_vector_unique")
        ]
        indexes = [models.Index(fields=["tenant", "model"], name="knowledge_vector_model")]

    def __str__(self) -> str:
        return f"{self.entry_id}:{self.text_key}"


class WordingProposal(TenantOwnedModel):
    """A customer's wording proposed as a similar question of the entry that answered it."""

    class Reason(models.TextChoices):
        HANDOFF_RESOLVED = "handoff_resolved", _("Staff resolved a hand-off with this entry")
        ANSWER_CORRECTED = "answer_corrected", _("Staff picked this entry for a wrong answer")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    entry = models.ForeignKey(
        KnowledgeEntry,
        on_delete=models.CASCADE,
        related_name="wording_proposals",
        verbose_name=_("knowledge entry"),
    )
    text = models.CharField(_("customer wording"), max_length=SIMILAR_MAX)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    message = models.ForeignKey(
        "dialogue.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer message"),
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta(TenantOwnedModel.Meta):
        verbose_name = _("wording proposal")
        verbose_name_plural = _("wording proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "text"],
                condition=models.Q(status="pending"),
                name="knowledge_proposal_pending_unique",
            )
        ]
        indexes = [models.Index(fields=["tenant", "status"], name="knowledge_proposal_status")]

    def __str__(self) -> str:
        return self.text[:80]
