"""Token estimates, for when a provider reports no usage and for prompt budgets.

Plain Python with no Django import, so the local LLM stub (`llmstub`) counts the
same way as the product.
"""

import json
import math
from typing import Any


def estimate_tokens(text: str) -> int:
    """Roughly 4 ASCII characters per token and one token per other (CJK) character."""
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 4) + len(text) - ascii_chars


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    return content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)


def estimate_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """Chat-format overhead: 3 tokens per prompt and 4 per message, plus their text."""
    return 3 + sum(4 + estimate_tokens(message_text(m)) for m in messages)
