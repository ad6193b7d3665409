"""Which retrieval layers a search uses: by default the configured ones; the evaluation's
ablation switches them one by one."""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.config import get_config


@dataclass(frozen=True)
class SearchMode:
    lexical: bool = True
    semantic: bool = True
    general_synonyms: bool = True
    rerank: bool = False

    @classmethod
    def configured(cls) -> SearchMode:
        config = get_config()
        return cls(
            semantic=config.get("knowledge.semantic_enabled"),
            general_synonyms=config.get("knowledge.general_synonyms_enabled"),
            rerank=config.get("knowledge.rerank_enabled"),
        )


LEXICAL_ONLY = SearchMode(semantic=False, general_synonyms=False)
