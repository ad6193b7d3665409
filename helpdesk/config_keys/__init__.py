"""Configuration key declarations, one module per section."""

from helpdesk.config_keys import (
    alerts,
    dialogue,
    embeddings,
    feishu,
    knowledge,
    llm,
    security,
    workorders,
)

ALL_KEYS = [
    *llm.KEYS,
    *dialogue.KEYS,
    *knowledge.KEYS,
    *alerts.KEYS,
    *feishu.KEYS,
    *workorders.KEYS,
    *security.KEYS,
    *embeddings.KEYS,
]
