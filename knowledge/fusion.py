"""One calibrated 0..1 score from the lexical and the semantic evidence, and the order of
the candidates.

The score estimates the probability that a candidate answers the query: a logistic model
over a few features of the candidate (its normalised lexical score, the cosine similarity
of its closest embedded text, how far each is behind the best candidate's, and their
interaction with the query's length, since long complaints mention many words besides
their topic). When semantic search is off or its service is down, the lexical-only model
of the same fit gives the score, so `knowledge.answer_threshold` means the same thing
either way.

The order comes from a third model, the ranking one: the same features and the
candidate's reciprocal rank in each list. Rank features tell which candidate is the
answer much better than scores do (a query's best cosine is its best, whatever its
value), but they make every query's first candidate look likely, so they would answer
questions nobody wrote an entry for: the ranking model orders, the hybrid model says how
sure the answer is. `manage.py evaluate_knowledge --calibrate` fits all three on the
tuning sets; `knowledge.fusion` holds them.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

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
    lexical_rank = _ranks({i: score for i, score in lexical.items() if score > 0})
    cosine_rank = _ranks(cosines or {})
    length = query_length(query)
    best_cosine = max(cosines.values(), default=0.0) if cosines else 0.0
    features = {}
    for entry_id in ids:
        lex = lexical.get(entry_id, 0.0)
        row = {
            "lexical": lex,
            "lexical_gap": best_lexical - lex,
            "long_x_lexical": length * lex,
            "lexical_rr": 1.0 / lexical_rank[entry_id] if entry_id in lexical_rank else 0.0,
        }
        if cosines is not None and entry_id in cosines:
            cos = cosines[entry_id]
            row |= {
                "cosine": cos,
                "lexical_x_cosine": lex * cos,
                "cosine_gap": best_cosine - cos,
                "long_x_cosine": length * cos,
                "cosine_rr": 1.0 / cosine_rank[entry_id],
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


def _ranks(scores: Mapping[int, float]) -> dict[int, int]:
    order = sorted(scores, key=lambda entry_id: (-scores[entry_id], entry_id))
    return {entry_id: rank for rank, entry_id in enumerate(order, 1)}


def fused_ranking(
    lexical: Mapping[int, float],
    cosines: Mapping[int, float] | None,
    query: str,
    *,
    verified: Collection[int] = (),
) -> list[tuple[int, float]]:
    """(entry id, P(answers)) of every candidate, best first (a verified entry first of
    equals); `cosines` None means no semantic layer this time. A candidate without a
    similarity (not embedded yet) gets the lexical-only model's score. A candidate never
    shows a higher score than one ranked above it."""
    weights = get_config().get("knowledge.fusion")
    features = candidate_features(lexical, cosines, query)
    scores, order = {}, {}
    for entry_id, row in features.items():
        model = "hybrid" if "cosine" in row else "lexical"
        scores[entry_id] = probability(row, weights[model])
        ranking = weights.get("ranking") if model == "hybrid" else None
        order[entry_id] = probability(row, ranking) if ranking else scores[entry_id]
    ranked = sorted(
        features,
        key=lambda i: (order[i], scores[i], lexical.get(i, 0.0), i in verified, -i),
        reverse=True,
    )
    result, ceiling = [], 1.0
    for entry_id in ranked:
        ceiling = min(ceiling, scores[entry_id])
        result.append((entry_id, ceiling))
    return result
