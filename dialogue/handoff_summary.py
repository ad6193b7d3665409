"""The LLM's summary of a handed-off conversation, added to its work order afterwards.

session_handoff opens the work order at once with a template summary. After its commit,
handoff_summary_schedule enqueues write_handoff_summary, which asks the LLM (purpose
"handoff_summary"; the client records the call) for a short summary for support staff
and adds it to the work order's timeline as an internal note: the timeline is where
information arriving after creation goes, and a note never overwrites a description
that staff may already have edited. With no LLM configured nothing is enqueued. When
the LLM fails, the template summary stays, a warning is logged, the LLMCall row says
why, and the task ends without retrying.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.tasks import task
from django.utils import translation
from django.utils.translation import gettext as _

from dialogue.models import ChatSession, HandoffReason
from dialogue.transcripts import transcript_line
from helpdesk.tasks import tenant_task
from llm.choices import Purpose
from llm.client import get_llm_client
from llm.errors import LLMError
from workorders.rules import MAX_COMMENT_LENGTH
from workorders.services import workorder_comment

logger = logging.getLogger(__name__)

# Characters of conversation sent to the LLM, so at most as many tokens.
TRANSCRIPT_BUDGET = 6000
SUMMARY_MAX_TOKENS = 400
SUMMARY_TEMPERATURE = 0.2
SUMMARY_PROMPT = (
    "你是客服主管的助理。客户刚从 AI 助手转给人工客服，请根据下面的对话记录，用中文为接手的客服"
    "写一份简短的交接摘要，只写对话中有依据的内容，不要编造。按下面的格式输出，每项一到两行：\n"
    "问题：客户遇到的问题（涉及的产品、车辆、订单等关键信息）\n"
    "已答复：AI 助手已经回答或建议过的内容，客户是否已经尝试\n"
    "待解决：客户仍然需要什么帮助\n"
    "情绪/紧急程度：只在对话中明显时填写，否则写“无明显表现”"
)


def transcript_tail(session: ChatSession, budget: int = TRANSCRIPT_BUDGET) -> str:
    """The conversation up to the hand-off; only its latest `budget` characters if longer."""
    messages = session.messages.order_by("-created_at", "-id")
    if session.handed_off_at is not None:
        messages = messages.filter(created_at__lte=session.handed_off_at)
    lines: list[str] = []
    size = 0
    for message in messages.iterator(chunk_size=100):
        lines.append(transcript_line(message))
        size += len(lines[-1]) + 1
        if size > budget:
            break
    text = "\n".join(reversed(lines))
    return text if len(text) <= budget else "…" + text[-(budget - 1) :]


def summary_prompt(session: ChatSession) -> list[dict[str, str]]:
    reason = HandoffReason(session.handoff_reason).label if session.handoff_reason else "-"
    user = f"转人工原因：{reason}\n\n对话记录：\n{transcript_tail(session)}"
    return [{"role": "system", "content": SUMMARY_PROMPT}, {"role": "user", "content": user}]


def handoff_summary_schedule(*, session: ChatSession) -> None:
    """Enqueue the summary of a session just handed off (run on the hand-off's commit)."""
    if not get_llm_client().is_configured():
        logger.info(
            "No LLM is configured: work order %s keeps its template summary.",
            session.work_order.number,
        )
        return
    write_handoff_summary.enqueue(tenant_id=session.tenant_id, session_id=session.pk)


@task()
@tenant_task
def write_handoff_summary(*, tenant_id: int, session_id: int) -> str:
    """Ask the LLM for the summary and add it to the work order; returns what happened."""
    session = ChatSession.objects.select_related("work_order").filter(pk=session_id).first()
    if session is None or session.work_order is None:
        return "no work order"
    work_order = session.work_order
    with translation.override(settings.LANGUAGE_CODE):
        try:
            result = get_llm_client().complete(
                summary_prompt(session),
                purpose=Purpose.HANDOFF_SUMMARY,
                max_tokens=SUMMARY_MAX_TOKENS,
                temperature=SUMMARY_TEMPERATURE,
            )
        except LLMError as exc:
            logger.warning(
                "Hand-off summary of work order %s not written (LLM call %s: %s); "
                "the template summary stays.",
                work_order.number,
                exc.call_id,
                exc.error_type,
            )
            return f"failed: {exc.error_type}"
        text = result.text.strip()
        if not text:
            logger.warning(
                "Hand-off summary of work order %s not written (LLM call %s: empty answer).",
                work_order.number,
                result.call_id,
            )
            return "failed: empty answer"
        body = f"{_('AI summary of the conversation:')}\n{text}"
        workorder_comment(
            work_order=work_order, actor=None, body=body[:MAX_COMMENT_LENGTH], internal=True
        )
    return "written"
