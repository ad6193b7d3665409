from helpdesk.config_schema import ConfigKey

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
]
