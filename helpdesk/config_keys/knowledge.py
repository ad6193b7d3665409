from typing import Any

from helpdesk.config_schema import ConfigError, ConfigKey


class FusionKey(ConfigKey):
    """`knowledge.fusion`: {"hybrid": {feature: weight}, "lexical": {feature: weight},
    "ranking": {feature: weight}}; without "ranking", the hybrid model orders too."""

    def coerce(self, value: Any) -> Any:
        value = super().coerce(value)
        models = [("hybrid", HYBRID_FEATURES), ("lexical", LEXICAL_FEATURES)]
        if "ranking" in value:
            models.append(("ranking", RANKING_FEATURES))
        for model, features in models:
            names = set(features)
            weights = value.get(model)
            if not isinstance(weights, dict) or not set(weights) <= names | {"bias"}:
                raise ConfigError(self.key, f"{model} must map {sorted(names)} and bias to weights")
            if not all(
                isinstance(w, int | float) and not isinstance(w, bool) for w in weights.values()
            ):
                raise ConfigError(self.key, f"{model}: weights must be numbers")
        return value


# The features of knowledge.fusion's models, in their order there (declared here: the
# project package imports no app).
HYBRID_FEATURES = (
    "lexical",
    "cosine",
    "lexical_x_cosine",
    "lexical_gap",
    "cosine_gap",
    "long_x_lexical",
    "long_x_cosine",
)
LEXICAL_FEATURES = ("lexical", "lexical_gap", "long_x_lexical")
RANKING_FEATURES = (*HYBRID_FEATURES, "lexical_rr", "cosine_rr")
# Fitted on the development and test sets (manage.py evaluate_knowledge --calibrate).
FUSION_DEFAULT: dict[str, dict[str, float]] = {
    "hybrid": {
        "bias": -31.3163,
        "lexical": 0.4128,
        "cosine": 33.0518,
        "lexical_x_cosine": 3.816,
        "lexical_gap": -8.8999,
        "cosine_gap": -30.2966,
        "long_x_lexical": 1.6663,
        "long_x_cosine": -0.4056,
    },
    "lexical": {
        "bias": -5.0558,
        "lexical": 8.4518,
        "lexical_gap": -10.1359,
        "long_x_lexical": 4.4064,
    },
    "ranking": {
        "bias": -17.2507,
        "lexical": 1.299,
        "cosine": 12.8374,
        "lexical_x_cosine": 0.7761,
        "lexical_gap": -4.2008,
        "cosine_gap": -7.7481,
        "long_x_lexical": -0.1861,
        "long_x_cosine": 0.2782,
        "lexical_rr": 2.0684,
        "cosine_rr": 4.8723,
    },
}


KEYS = [
    ConfigKey(
        "knowledge.answer_threshold",
        float,
        # The lowest with at most 10% of unanswerable questions answered on the tuning
        # sets (manage.py evaluate_knowledge --calibrate).
        0.40,
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
        FUSION_DEFAULT,
        "Weights of the calibrated score (a logistic model over lexical and semantic "
        "features, fitted by manage.py evaluate_knowledge --calibrate).",
    ),
]
