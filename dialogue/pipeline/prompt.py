"""The LLM messages of a turn: the system prompt with the knowledge hits, the linked work
order's suggestions, the recent conversation within its token budget, the new message."""

from __future__ import annotations

from accounts.models import Tenant
from dialogue.models import Role
from dialogue.pipeline.values import TurnSettings
from knowledge.search import SearchHit
from llm.tokens import estimate_tokens

# Per-message overhead of the chat format, in tokens.
MESSAGE_OVERHEAD_TOKENS = 4


def system_prompt(tenant: Tenant, settings: TurnSettings) -> str:
    custom = (tenant.settings or {}).get("system_prompt")
    return custom if isinstance(custom, str) and custom.strip() else settings.system_prompt


def build_prompt(
    *,
    tenant: Tenant,
    settings: TurnSettings,
    hits: list[SearchHit],
    history: list[tuple[str, str]],
    suggestions: list[str],
    content: str,
) -> list[dict[str, str]]:
    """`history` is (role, content) of earlier messages, newest first."""
    parts = [system_prompt(tenant, settings)]
    if hits:
        lines = ["知识库内容（回答时用 [编号] 标注引用）："]
        for number, hit in enumerate(hits, start=1):
            lines.append(f"[{number}] 问：{hit.entry.question}\n答：{hit.entry.answer}")
        parts.append("\n".join(lines))
    else:
        parts.append("知识库中没有找到与问题相关的内容。")
    if suggestions:
        parts.append("关联工单的 AI 处理建议：\n" + "\n".join(f"- {s}" for s in suggestions))
    messages = [{"role": "system", "content": "\n\n".join(parts)}]
    messages += recent_turns(history, budget=settings.history_token_budget)
    messages.append({"role": "user", "content": content})
    return messages


def recent_turns(history: list[tuple[str, str]], *, budget: int) -> list[dict[str, str]]:
    """The most recent messages that fit in `budget` tokens, oldest first."""
    picked: list[dict[str, str]] = []
    for role, content in history:
        cost = estimate_tokens(content) + MESSAGE_OVERHEAD_TOKENS
        if cost > budget:
            break
        budget -= cost
        if role == Role.AGENT:
            picked.append({"role": "assistant", "content": f"（人工客服）{content}"})
        else:
            picked.append({"role": role, "content": content})
    picked.reverse()
    return picked
