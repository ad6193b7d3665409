"""AI suggestions for work orders: generate, compare with the human resolution, approve.

The suggestion is built from the work order's description, its public timeline and
the knowledge base (LLM purpose "suggestion"; the LLM client records the call). With
no LLM configured, the best verified knowledge entry is offered instead. Staff
record the resolution they actually applied; the similarity of the two is computed
on segmented Chinese text; approving turns the resolution (or the suggestion) into
a knowledge entry through the knowledge service.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dialogue.models import SuggestionStatus, WorkOrderSuggestion
from dialogue.pipeline.decisions import cited_entry_ids
from helpdesk.config import get_config
from knowledge.search import search
from knowledge.services import entry_create
from knowledge.vocabulary import similarity
from llm.client import get_llm_client
from llm.errors import LLMError
from workorders.services import workorder_add_event

TIMELINE_EVENTS = 20
SUGGESTION_PROMPT = (
    "你是资深的售后技术支持工程师。根据工单描述、处理记录和知识库内容，给出具体、可执行的处理建议"
    "（排查步骤、可能原因、需要客户配合的事项）。引用知识库时用 [编号] 标注；知识库没有相关内容时，"
    "根据经验给出建议并说明需要人工确认。"
)


class SuggestionUnavailable(Exception):
    """No suggestion could be produced (the LLM failed, or nothing to offer without it)."""


class SuggestionStateError(Exception):
    """The suggestion was already approved or rejected."""


def _timeline(work_order: Any) -> str:
    events = (
        work_order.events.exclude(body="")
        .select_related("actor")
        .order_by("-created_at", "-id")[:TIMELINE_EVENTS]
    )
    lines = []
    for event in reversed(list(events)):
        stamp = timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M")
        lines.append(f"[{stamp}] {event.get_kind_display()}：{event.body}")
    return "\n".join(lines)


def _prompt(work_order: Any, hits: list[Any]) -> list[dict[str, str]]:
    knowledge = "\n".join(
        f"[{number}] 问：{hit.entry.question}\n答：{hit.entry.answer}"
        for number, hit in enumerate(hits, start=1)
    )
    user = "\n\n".join(
        part
        for part in (
            f"工单 {work_order.number}：{work_order.title}",
            f"VIN：{work_order.vin}" if work_order.vin else "",
            f"模块：{work_order.module}" if work_order.module else "",
            f"描述：\n{work_order.description}" if work_order.description else "",
            f"处理记录：\n{_timeline(work_order)}" if work_order.events.exists() else "",
            f"知识库内容：\n{knowledge}" if knowledge else "知识库中没有找到相关内容。",
        )
        if part
    )
    return [{"role": "system", "content": SUGGESTION_PROMPT}, {"role": "user", "content": user}]


def suggestion_generate(*, work_order: Any, actor: Any) -> WorkOrderSuggestion:
    query = f"{work_order.title} {work_order.description[:500]}"
    hits = list(search(query, limit=get_config().get("dialogue.knowledge_top_k")))
    client = get_llm_client()
    if client.is_configured():
        try:
            result = client.complete(_prompt(work_order, hits), purpose="suggestion")
        except LLMError as exc:
            raise SuggestionUnavailable(
                _("The assistant could not produce a suggestion (%(error)s). Try again later.")
                % {"error": type(exc).__name__}
            ) from exc
        fields = {
            "content": result.text,
            "citations": cited_entry_ids(result.text, hits),
            "llm_call_id": str(result.call_id or ""),
        }
    else:
        best = next((h for h in hits if h.entry.verified), None)
        if best is None:
            raise SuggestionUnavailable(
                _("No LLM is configured and the knowledge base has no verified entry for this.")
            )
        fields = {
            "content": best.entry.answer,
            "citations": [best.entry.pk],
            "kb_only": True,
        }
    with transaction.atomic():
        suggestion = WorkOrderSuggestion.objects.create(
            work_order=work_order, created_by=actor, **fields
        )
        workorder_add_event(
            work_order=work_order, kind="suggestion_added", actor=actor, body=suggestion.content
        )
    return suggestion


def suggestion_record_resolution(
    *, suggestion: WorkOrderSuggestion, human_resolution: str
) -> WorkOrderSuggestion:
    suggestion.human_resolution = human_resolution.strip()
    suggestion.similarity = round(similarity(suggestion.content, suggestion.human_resolution), 4)
    suggestion.save(update_fields=["human_resolution", "similarity"])
    return suggestion


def suggestion_approve(*, suggestion: WorkOrderSuggestion, actor: Any) -> WorkOrderSuggestion:
    """Turn the suggestion (the human resolution when recorded) into a knowledge entry."""
    with transaction.atomic():
        suggestion = WorkOrderSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.status != SuggestionStatus.DRAFT:
            raise SuggestionStateError(_("This suggestion has already been reviewed."))
        work_order = suggestion.work_order
        entry = entry_create(
            question=work_order.title,
            answer=suggestion.human_resolution or suggestion.content,
            category=work_order.category,
            source="work_order",
            actor=actor,
            verified=True,
            work_order=work_order,
        )
        suggestion.status = SuggestionStatus.APPROVED
        suggestion.knowledge_entry = entry
        suggestion.reviewed_by = actor
        suggestion.reviewed_at = timezone.now()
        suggestion.save(update_fields=["status", "knowledge_entry", "reviewed_by", "reviewed_at"])
    return suggestion


def suggestion_reject(*, suggestion: WorkOrderSuggestion, actor: Any) -> WorkOrderSuggestion:
    with transaction.atomic():
        suggestion = WorkOrderSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.status != SuggestionStatus.DRAFT:
            raise SuggestionStateError(_("This suggestion has already been reviewed."))
        suggestion.status = SuggestionStatus.REJECTED
        suggestion.reviewed_by = actor
        suggestion.reviewed_at = timezone.now()
        suggestion.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return suggestion
