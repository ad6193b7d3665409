"""Admin: entries with ranked search and verify actions, vocabulary, imports with progress."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.admin import TenantScopedAdmin, ids_in_their_scope, rows_in_their_scope
from helpdesk.import_limits import ImportBusy
from helpdesk.tenancy import current_tenant, current_tenant_or_none
from knowledge import entries, importing, services
from knowledge.import_jobs import check_queue
from knowledge.models import (
    SIMILAR_MAX,
    CustomWord,
    ImportJob,
    KnowledgeEntry,
    SynonymGroup,
    WordingProposal,
)
from knowledge.proposals import proposal_approve, proposal_reject
from knowledge.search import search
from knowledge.similar_questions import MAX_PER_ENTRY, clean_similar_text
from knowledge.tasks import run_import

# A draft entry handed to the add form through the session (the reports dashboard writes
# one from a question the assistant could not answer); the add form takes it with ?draft=1.
DRAFT_SESSION_KEY = "knowledge_entry_draft"
DRAFT_FIELDS = ("question", "answer", "category")
MODEL_FIELDS = tuple(name for name in services.EDITABLE_FIELDS if name != "similar_questions")


class KnowledgeEntryForm(forms.ModelForm):
    similar_questions = forms.CharField(
        label=_("similar questions"),
        help_text=_("Other wordings of the question (相似问法), one per line; searched like it."),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=MAX_PER_ENTRY * (SIMILAR_MAX + 1),
    )

    class Meta:
        model = KnowledgeEntry
        fields = MODEL_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["similar_questions"] = "\n".join(
                self.instance.similar_questions.values_list("text", flat=True)
            )

    def clean_similar_questions(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["similar_questions"].splitlines()]
        try:
            return [clean_similar_text(line) for line in lines if line]
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean(self):
        data = super().clean()
        try:
            entries.build_entry(
                question=data.get("question", ""),
                answer=data.get("answer", ""),
                category=data.get("category", ""),
                tags=data.get("tags") or [],
            )
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return data


@admin.register(KnowledgeEntry)
class KnowledgeEntryAdmin(TenantScopedAdmin):
    form = KnowledgeEntryForm
    list_display = ("question", "category", "verified", "is_active", "source", "usage_count")
    list_filter = ("verified", "is_active", "source", "category")
    list_select_related = ("verified_by",)
    search_fields = ("question", "answer")
    search_help_text = _("Ranked Chinese search over questions and answers.")
    readonly_fields = (
        "verified",
        "verified_by",
        "verified_at",
        "source",
        "source_document",
        "source_position",
        "work_order",
        "usage_count",
        "last_used_at",
    )
    # save_model reads every editable field from the form, so the form shows all of them.
    fields = (*MODEL_FIELDS, "similar_questions", *readonly_fields)
    actions = ("verify_selected", "unverify_selected", "deactivate_selected")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.pop("draft", None)
        draft = request.session.pop(DRAFT_SESSION_KEY, None) if "draft" in request.GET else None
        if isinstance(draft, dict):
            initial.update({name: str(draft[name]) for name in DRAFT_FIELDS if name in draft})
        return initial

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip() or current_tenant_or_none() is None:
            return super().get_search_results(request, queryset, search_term)
        ids = [hit.entry.pk for hit in search(search_term, limit=50)]
        order = Case(
            *(When(pk=pk, then=i) for i, pk in enumerate(ids)), output_field=IntegerField()
        )
        return queryset.filter(pk__in=ids).order_by(order) if ids else queryset.none(), False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in services.EDITABLE_FIELDS}
        data["similar_questions"] = data["similar_questions"] or []
        data["tags"] = data["tags"] or []
        if change:
            saved = services.entry_update(entry=obj, actor=request.user, **data)
        else:
            is_active = data.pop("is_active")
            saved = services.entry_create(actor=request.user, **data)
            if not is_active:
                services.entry_deactivate(entry=saved, actor=request.user)
        obj.pk = saved.pk

    @admin.action(description=_("Verify selected entries"), permissions=["change"])
    def verify_selected(self, request, queryset):
        count = sum(
            services.entries_verify(entry_ids=ids, actor=request.user)
            for ids in ids_in_their_scope(queryset)
        )
        self.message_user(
            request, ngettext("%d entry verified.", "%d entries verified.", count) % count
        )

    @admin.action(description=_("Remove verification of selected entries"), permissions=["change"])
    def unverify_selected(self, request, queryset):
        for ids in ids_in_their_scope(queryset):
            services.entries_unverify(entry_ids=ids, actor=request.user)

    @admin.action(description=_("Deactivate selected entries"), permissions=["change"])
    def deactivate_selected(self, request, queryset):
        count = sum(
            services.entries_deactivate(entry_ids=ids, actor=request.user)
            for ids in ids_in_their_scope(queryset)
        )
        self.message_user(
            request, ngettext("%d entry deactivated.", "%d entries deactivated.", count) % count
        )


class VocabularyAdmin(TenantScopedAdmin):
    """Any change re-indexes the tenant in the background."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.vocabulary_changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.vocabulary_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        services.vocabulary_changed()


@admin.register(CustomWord)
class CustomWordAdmin(VocabularyAdmin):
    list_display = ("word", "shipped", "updated_at")
    list_filter = ("shipped",)
    search_fields = ("word",)


class SynonymGroupForm(forms.ModelForm):
    terms_text = forms.CharField(
        label=_("terms"),
        help_text=_("Comma-separated; the first term is the canonical one."),
        max_length=2000,
    )

    class Meta:
        model = SynonymGroup
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["terms_text"].initial = ", ".join(self.instance.terms)

    def clean_terms_text(self) -> list[str]:
        raw = self.cleaned_data["terms_text"].replace("，", ",")
        terms = list(dict.fromkeys(t.strip() for t in raw.split(",") if t.strip()))
        if len(terms) < 2:
            raise forms.ValidationError(_("Give at least two terms."))
        return terms

    def save(self, commit: bool = True):
        self.instance.terms = self.cleaned_data["terms_text"]
        return super().save(commit)


@admin.register(SynonymGroup)
class SynonymGroupAdmin(VocabularyAdmin):
    form = SynonymGroupForm
    list_display = ("__str__", "shipped", "updated_at")
    list_filter = ("shipped",)


class ImportUploadForm(forms.ModelForm):
    upload = forms.FileField(
        label=_("file"),
        help_text=_("CSV/XLSX with question and answer columns, or a TXT/MD/DOCX/PDF document."),
    )

    class Meta:
        model = ImportJob
        fields = ()

    def clean_upload(self):
        """What `importing.import_create` checks, so that saving cannot fail."""
        upload = self.cleaned_data["upload"]
        try:
            importing.check_upload(file_name=upload.name, size=upload.size)
            importing.import_check(file_name=upload.name, content=upload.read())
            check_queue(new_jobs=1)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        except ImportBusy as exc:
            raise forms.ValidationError(str(exc)) from exc
        finally:
            upload.seek(0)
        return upload


@admin.register(ImportJob)
class ImportJobAdmin(TenantScopedAdmin):
    list_display = (
        "file_name",
        "kind",
        "status",
        "progress_percent",
        "created_count",
        "skipped_count",
        "created_at",
    )
    list_filter = ("status", "kind")
    list_select_related = ("created_by",)
    readonly_fields = (
        "file_name",
        "kind",
        "status",
        "progress_percent",
        "total",
        "processed",
        "created_count",
        "skipped_count",
        "errors",
        "created_by",
        "created_at",
        "finished_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ImportUploadForm
            kwargs["fields"] = ("upload",)
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        return ("upload",) if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("progress"))
    def progress_percent(self, job: ImportJob) -> str:
        return f"{job.progress}%"

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data["upload"]
        job = importing.import_create(
            file_name=upload.name, content=upload.read(), actor=request.user
        )
        run_import.enqueue(tenant_id=current_tenant().pk, job_id=job.pk)
        obj.pk = job.pk


@admin.register(WordingProposal)
class WordingProposalAdmin(TenantScopedAdmin):
    """Customer wordings to approve as similar questions (one click: the actions)."""

    list_display = ("text", "entry", "reason", "status", "created_at")
    list_filter = ("status", "reason")
    list_select_related = ("entry",)
    search_fields = ("text",)
    readonly_fields = (
        "entry",
        "text",
        "reason",
        "status",
        "message",
        "proposed_by",
        "decided_by",
        "decided_at",
    )
    actions = ("approve_selected", "reject_selected")

    def has_add_permission(self, request) -> bool:
        return False

    def _decide(self, request, queryset, decide) -> int:
        count = 0
        for proposal in rows_in_their_scope(queryset.filter(status=WordingProposal.Status.PENDING)):
            decide(proposal=proposal, actor=request.user)
            count += 1
        return count

    @admin.action(description=_("Approve as similar questions"), permissions=["change"])
    def approve_selected(self, request, queryset):
        count = self._decide(request, queryset, proposal_approve)
        self.message_user(
            request, ngettext("%d wording approved.", "%d wordings approved.", count) % count
        )

    @admin.action(description=_("Reject selected proposals"), permissions=["change"])
    def reject_selected(self, request, queryset):
        count = self._decide(request, queryset, proposal_reject)
        self.message_user(
            request, ngettext("%d proposal rejected.", "%d proposals rejected.", count) % count
        )
