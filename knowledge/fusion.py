"""One calibrated 0..1 score from the lexical and the semantic evidence.

The score estimates the probability that a candidate answers the query: a logistic model
over a few features of the candidate (its normalised lexical score, the cosine similarity
of its closest embedded text, how far each is behind the best candidate's, and their
interaction with the query's length, since long complaints mention many words besides
their topic). `manage.py evaluate_knowledge --calibrate` fits the weights on the
development set; `knowledge.fusion` holds them. When semantic search is off or its
service is down, the lexical-only model of the same fit gives the score, so
`knowledge.answer_threshold` means the same thing either way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from helpdesk.config import get_config

LONG_QUERY_CHARS = 50.0


def query_length(query: str) -> float:
    """0 for a short question, growing to 2 for a long complaint."""
    return min(len("".join(query.split())) / LONG_QUERY_CHARS, 2.0)


def candidate_features(
    lexical: Mapping[int, float], cosines: Mapping[int, float] | None, query: str
) -> dict[int, dict[str, float]]:
    """Features of every candidate (entry id): lexical-only when `cosines` is None or has
    no similarity for it (an entry not embedded yet)."""
    ids = set(lexical) | set(cosines or {})
    best_lexical = max(lexical.values(), default=0.0)
    length = query_length(query)
    best_cosine = max(cosines.values(), default=0.0) if cosines else 0.0
    features = {}
    for entry_id in ids:
        lex = lexical.get(entry_id, 0.0)
        row = {
            "lexical": lex,
            "lexical_gap": best_lexical - lex,
            "long_x_lexical": length * lex,
        }
        if cosines is not None and entry_id in cosines:
            cos = cosines[entry_id]
            row |= {
                "cosine": cos,
                "lexical_x_cosine": lex * cos,
                "cosine_gap": best_cosine - cos,
                "long_x_cosine": length * cos,
            }
        features[entry_id] = row
    return features


def probability(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    x = weights.get("bias", 0.0) + sum(
        w * features[name] for name, w in weights.items() if name != "bias"
    )
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def fused_scores(
    lexical: Mapping[int, float], cosines: Mapping[int, float] | None, query: str
) -> dict[int, float]:
    """P(answers) of every candidate; `cosines` None means no semantic layer this time. A
    candidate without a similarity (not embedded yet) gets the lexical-only model's score."""
    weights = get_config().get("knowledge.fusion")
    return {
        entry_id: probability(row, weights["hybrid" if "cosine" in row else "lexical"])
        for entry_id, row in candidate_features(lexical, cosines, query).items()
    }
