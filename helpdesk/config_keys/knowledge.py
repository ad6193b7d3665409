from typing import Any

from helpdesk.config_schema import ConfigError, ConfigKey


class FusionKey(ConfigKey):
    """`knowledge.fusion`: {"hybrid": [4 numbers], "lexical": [2 numbers]}."""

    def coerce(self, value: Any) -> Any:
        value = super().coerce(value)
        for name, size in (("hybrid", 4), ("lexical", 2)):
            numbers = value.get(name)
            if (
                not isinstance(numbers, list)
                or len(numbers) != size
                or not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers)
            ):
                raise ConfigError(self.key, f"{name} must be a list of {size} numbers")
        return value


KEYS = [
    ConfigKey(
        "knowledge.answer_threshold",
        float,
        0.35,
        "Normalised score above which an entry is taken to answer a query.",
        min_value=0,
        max_value=1,
    ),
    ConfigKey(
        "knowledge.verified_boost", float, 1.2, "Score multiplier of verified entries.", min_value=1
    ),
    ConfigKey(
        "knowledge.question_weight",
        float,
        2.0,
        "Weight of the question relative to the answer.",
        min_value=0,
    ),
    ConfigKey(
        "knowledge.duplicate_threshold",
        float,
        0.85,
        "Similarity at or above which a new entry counts as a duplicate.",
        min_value=0,
        max_value=1,
    ),
    ConfigKey(
        "knowledge.passage_max_chars",
        int,
        800,
        "Longest passage cut from an imported document.",
        min_value=100,
    ),
    ConfigKey(
        "knowledge.import_max_bytes",
        int,
        20 * 1024 * 1024,
        "Largest file accepted for import.",
        min_value=1024,
    ),
    ConfigKey(
        "knowledge.search_cache_seconds",
        int,
        300,
        "How long a search result is reused for the same question (changes to the "
        "knowledge base take effect at once). 0: never.",
        min_value=0,
    ),
    ConfigKey(
        "knowledge.semantic_enabled",
        bool,
        True,
        "Search by meaning too: entries and queries are embedded through the endpoint of "
        "the embeddings section, and both rankings are fused into one score.",
    ),
    ConfigKey(
        "knowledge.general_synonyms_enabled",
        bool,
        True,
        "Expand queries with a general Chinese synonym dictionary (Tongyici Cilin), weaker "
        "than the tenant's own synonym groups.",
    ),
    ConfigKey(
        "knowledge.rerank_enabled",
        bool,
        False,
        "Let the LLM re-order the best candidates (costs one LLM call per search).",
    ),
    ConfigKey(
        "knowledge.vector_backend",
        str,
        "auto",
        "Where entry vectors are searched: pgvector (PostgreSQL with the extension), "
        "in_process (numpy, any database) or auto (pgvector where it exists).",
        choices=("auto", "pgvector", "in_process"),
    ),
    FusionKey(
        "knowledge.fusion",
        dict,
        {"hybrid": [-6.0, 6.0, 4.0, 2.0], "lexical": [-3.0, 7.0]},
        "Coefficients of the calibrated score: hybrid [bias, lexical, cosine, lexical x "
        "cosine] and lexical [bias, lexical] (manage.py evaluate_knowledge --calibrate).",
    ),
]
