"""One calibrated 0..1 score from the lexical score and the semantic similarity.

The score estimates the probability that an entry answers the query: a logistic model
over the normalised lexical score, the cosine similarity of the closest embedded text
and their product, fitted on the development set (`manage.py evaluate_knowledge
--calibrate` prints the coefficients; `knowledge.fusion` holds them). When semantic
search is off or its service is down, the lexical-only model of the same fit gives the
score, so `knowledge.answer_threshold` means the same thing in both cases.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from helpdesk.config import get_config


@dataclass(frozen=True)
class Calibration:
    # bias, lexical, cosine, lexical x cosine
    hybrid: tuple[float, float, float, float]
    # bias, lexical
    lexical: tuple[float, float]

    @classmethod
    def configured(cls) -> Calibration:
        value = get_config().get("knowledge.fusion")
        return cls(hybrid=tuple(value["hybrid"]), lexical=tuple(value["lexical"]))


def _sigmoid(x: float) -> float:
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def hybrid_features(lexical: float, cosine: float) -> tuple[float, float, float]:
    return lexical, cosine, lexical * cosine


def fused_score(lexical: float, cosine: float | None, calibration: Calibration) -> float:
    """P(answers) of a candidate; `cosine` None means no semantic layer for this search."""
    if cosine is None:
        bias, weight = calibration.lexical
        return _sigmoid(bias + weight * lexical)
    bias, *weights = calibration.hybrid
    features = hybrid_features(lexical, cosine)
    return _sigmoid(bias + sum(w * f for w, f in zip(weights, features, strict=True)))
