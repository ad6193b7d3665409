"""Configuration key declarations, one module per section."""

from helpdesk.config_keys import (
    alerts,
    budget,
    dialogue,
    embeddings,
    feishu,
    imports,
    knowledge,
    llm,
    reports,
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
    *budget.KEYS,
    *reports.KEYS,
    *imports.KEYS,
    *embeddings.KEYS,
]
