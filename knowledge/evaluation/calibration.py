"""Fitting the fused score on the tuning sets (the development set and the first test
set, each on a tenant of its own): a logistic regression over the candidates' features
(`knowledge.fusion`), labelled by whether the candidate is an expected answer, and the
answer threshold that keeps false answers rare. The held-out set is never fitted on."""

from __future__ import annotations

import numpy as np

from helpdesk.config_keys.knowledge import HYBRID_FEATURES, LEXICAL_FEATURES, RANKING_FEATURES
from helpdesk.tenancy import current_tenant
from knowledge import vocabulary
from knowledge.evaluation.ablation import HYBRID, Step, evaluation_tenant
from knowledge.fusion import candidate_features
from knowledge.lexical import lexical_candidates
from knowledge.semantic import add_similarities, semantic_candidates

POOL = 30
L2 = 0.05
CALIBRATION_STEP = Step("calibration", HYBRID, shipped_lexicon=True, similar_questions=True)


def collect(dataset: dict) -> tuple[list[dict[str, float]], list[dict[str, float]], list[int]]:
    """(hybrid features, lexical features, labels) of every candidate of every query."""
    hybrid_rows: list[dict[str, float]] = []
    lexical_rows: list[dict[str, float]] = []
    labels: list[int] = []
    with evaluation_tenant(dataset, CALIBRATION_STEP) as ids:
        tenant = current_tenant()
        segmenter = vocabulary.segmenter_for(tenant.pk)
        for item in dataset["queries"]:
            expected = {ids[key] for key in item["expected"]}
            query = item["query"]
            lexical = lexical_candidates(
                query, tenant_id=tenant.pk, segmenter=segmenter, limit=POOL, expand=True
            )
            semantic = semantic_candidates(query, tenant_id=tenant.pk, limit=POOL)
            add_similarities(semantic, [e.pk for e, _s in lexical.scored])
            lexical_scores = {e.pk: s for e, s in lexical.scored}
            both = candidate_features(lexical_scores, semantic.similarities, query)
            alone = candidate_features(lexical_scores, None, query)
            for entry_id, row in both.items():
                hybrid_rows.append(row)
                lexical_rows.append(alone.get(entry_id, dict.fromkeys(LEXICAL_FEATURES, 0.0)))
                labels.append(int(entry_id in expected))
    return hybrid_rows, lexical_rows, labels


def fit(
    rows: list[dict[str, float]], labels: list[int], names: tuple[str, ...]
) -> dict[str, float]:
    """L2-regularised logistic regression by Newton's method; returns {"bias", feature: w}."""
    x = np.array([[1.0, *(row.get(name, 0.0) for name in names)] for row in rows])
    y = np.array(labels, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * L2
    penalty[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -40, 40)))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return {"bias": round(float(w[0]), 4)} | {
        name: round(float(value), 4) for name, value in zip(names, w[1:], strict=True)
    }


def calibrate(datasets: list[dict]) -> dict[str, dict[str, float]]:
    hybrid_rows: list[dict[str, float]] = []
    lexical_rows: list[dict[str, float]] = []
    labels: list[int] = []
    for dataset in datasets:
        hybrid, lexical, labelled = collect(dataset)
        hybrid_rows += hybrid
        lexical_rows += lexical
        labels += labelled
    return {
        "hybrid": fit(hybrid_rows, labels, HYBRID_FEATURES),
        "lexical": fit(lexical_rows, labels, LEXICAL_FEATURES),
        "ranking": fit(hybrid_rows, labels, RANKING_FEATURES),
    }


def threshold_table(right_scores: list[float], unanswerable_scores: list[float], answerable: int):
    """(threshold, answered right at rank 1 share, false-answer share) for a few thresholds."""
    rows = []
    for threshold in np.arange(0.1, 0.95, 0.05):
        right = sum(score >= threshold for score in right_scores) / max(answerable, 1)
        false = sum(score >= threshold for score in unanswerable_scores) / max(
            len(unanswerable_scores), 1
        )
        rows.append((round(float(threshold), 2), right, false))
    return rows
