"""A reply drafted by the LLM for a support agent to edit before sending: the knowledge
base's answers to the customer's latest question and the conversation so far."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from dialogue import selectors
from dialogue.models import ChatSession, Role
from dialogue.pipeline.prompt import recent_turns
from dialogue.pipeline.values import HISTORY_MESSAGES, TurnSettings
from knowledge.search import search
from llm.choices import Purpose
from llm.client import get_llm_client
from llm.errors import LLMError

DRAFT_PROMPT = (
    "你是客服坐席的写作助手。人工客服正在与客户对话，请替客服起草下一条发给客户的回复："
    "礼貌、简洁，只根据知识库内容和对话中已知的信息作答，不编造；需要客户补充信息时直接询问。"
    "只输出回复正文。"
)


class DraftUnavailable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DraftPrompt:
    messages: list[dict[str, str]]
    settings: TurnSettings


def draft_prompt(*, session: ChatSession) -> DraftPrompt:
    """The draft's prompt: the conversation so far and the knowledge base's answers to
    the customer's latest question (database and search: in a worker thread)."""
    settings = TurnSettings.load()
    if not settings.llm.configured:
        raise DraftUnavailable(_("Drafts need an LLM, and none is configured."))
    history = list(selectors.recent_history(session, limit=HISTORY_MESSAGES))
    question = next((content for role, content in history if role == Role.USER), "")
    hits = search(question, limit=settings.knowledge_top_k) if question else []
    knowledge = "\n".join(
        f"[{number}] 问：{hit.entry.question}\n答：{hit.entry.answer}"
        for number, hit in enumerate(hits, start=1)
    )
    system = f"{DRAFT_PROMPT}\n\n知识库内容：\n{knowledge or '（没有找到相关内容）'}"
    messages = [{"role": "system", "content": system}]
    messages += recent_turns(history, budget=settings.history_token_budget)
    messages.append({"role": "user", "content": "请起草客服的下一条回复。"})
    return DraftPrompt(messages, settings)


async def draft_reply(prompt: DraftPrompt) -> str:
    """The LLM's draft, from the event loop."""
    try:
        result = await get_llm_client().acomplete(
            prompt.messages,
            purpose=Purpose.REPLY_DRAFT,
            max_tokens=prompt.settings.max_output_tokens,
            settings=prompt.settings.llm,
        )
    except LLMError as exc:
        raise DraftUnavailable(
            _("The draft could not be written (%(error)s).") % {"error": exc.error_type}
        ) from exc
    return result.text.strip()
