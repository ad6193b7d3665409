"""A knowledge entry drafted from a conversation the assistant could not answer.

The question is the customer's message; the answer is what the staff replied in that
conversation (their chat replies and the public replies and resolution of its work order).
With an LLM configured (and the budget not stopped), the LLM turns those replies into one
answer (purpose "knowledge_draft"); otherwise, or when it fails, the replies are given as
they are, for the author to edit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils.translation import gettext as _

from dialogue.models import Message, Role
from llm.budget import budget_exhausted
from llm.choices import Purpose
from llm.client import get_llm_client
from llm.errors import LLMError
from workorders.models import WorkOrderEvent

logger = logging.getLogger(__name__)

DRAFT_PROMPT = (
    "你是客服知识库的编辑。根据客户的问题和人工客服的回复，写一条知识库答案：直接回答问题，"
    "给出具体步骤，不要提及具体客户、工单号或客服姓名；人工回复中没有的信息不要编造。"
)
MAX_REPLIES = 20


@dataclass(frozen=True)
class Draft:
    question: str
    answer: str
    category: str
    drafted_by_llm: bool


def staff_replies(message: Message) -> list[str]:
    """What people answered in the conversation of `message`, oldest first."""
    replies = list(
        Message.objects.filter(session_id=message.session_id, role=Role.AGENT)
        .order_by("created_at", "id")
        .values_list("content", flat=True)[:MAX_REPLIES]
    )
    work_order = message.session.work_order  # the caller selects it with the message
    if work_order is not None:
        replies += (
            WorkOrderEvent.objects.filter(
                work_order_id=work_order.pk,
                kind=WorkOrderEvent.Kind.COMMENT,
                internal=False,
                actor__isnull=False,
            )
            .order_by("created_at", "id")
            .values_list("body", flat=True)[:MAX_REPLIES]
        )
        if work_order.resolution:
            replies.append(work_order.resolution)
    return list(dict.fromkeys(reply.strip() for reply in replies if reply.strip()))


def _llm_answer(question: str, replies: list[str]) -> str | None:
    client = get_llm_client()
    if not client.is_configured() or budget_exhausted():
        return None
    user = _("Customer question:\n%(question)s\n\nStaff replies:\n%(replies)s") % {
        "question": question,
        "replies": "\n".join(f"- {reply}" for reply in replies),
    }
    try:
        result = client.complete(
            [{"role": "system", "content": DRAFT_PROMPT}, {"role": "user", "content": user}],
            purpose=Purpose.KNOWLEDGE_DRAFT,
        )
    except LLMError as exc:
        logger.warning("Knowledge draft without the LLM: %s", type(exc).__name__)
        return None
    return result.text.strip() or None


def knowledge_draft(*, message: Message) -> Draft:
    """A draft entry for the customer question `message` (a user message)."""
    replies = staff_replies(message)
    answer = _llm_answer(message.content, replies) if replies else None
    work_order = message.session.work_order
    return Draft(
        question=message.content.strip(),
        answer=answer if answer is not None else "\n\n".join(replies),
        category=work_order.category if work_order else "",
        drafted_by_llm=answer is not None,
    )
