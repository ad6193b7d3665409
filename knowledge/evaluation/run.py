"""Retrieval quality on an evaluation set: recall@1, recall@3, MRR and false answers,
overall and per query kind."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge import services
from knowledge.search import SearchHit
from knowledge.similar_questions import similar_questions_add

HERE = Path(__file__).resolve().parent
DATASET = HERE / "dataset.json"
DEVELOPMENT_SET = DATASET
TEST_SET = HERE / "testset.json"
# Written blind after the two sets above had been tuned on; nothing is fitted or chosen on it.
HOLDOUT_SET = HERE / "holdout.json"
TUNING_SETS = (DEVELOPMENT_SET, TEST_SET)
UNANSWERABLE = "unanswerable"


@dataclass
class KindScore:
    total: int = 0
    hits_at_1: int = 0
    hits_at_3: int = 0
    reciprocal_ranks: float = 0.0

    def add(self, rank: int | None) -> None:
        self.total += 1
        self.hits_at_1 += rank == 1
        self.hits_at_3 += rank is not None and rank <= 3
        self.reciprocal_ranks += 1 / rank if rank else 0.0

    @property
    def recall_at_1(self) -> float:
        return self.hits_at_1 / self.total if self.total else 0.0

    @property
    def recall_at_3(self) -> float:
        return self.hits_at_3 / self.total if self.total else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.total if self.total else 0.0


@dataclass
class Report:
    threshold: float
    overall: KindScore = field(default_factory=KindScore)
    by_kind: dict[str, KindScore] = field(default_factory=lambda: defaultdict(KindScore))
    unanswerable: int = 0
    false_answers: int = 0
    # Top score of every answerable query whose best hit is right, and of every unanswerable one.
    right_scores: list[float] = field(default_factory=list)
    unanswerable_scores: list[float] = field(default_factory=list)
    misses: list[tuple[str, str, list[str], list[str]]] = field(default_factory=list)

    @property
    def false_answer_rate(self) -> float:
        return self.false_answers / self.unanswerable if self.unanswerable else 0.0


def load_dataset(path: Path = DATASET) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load_into_active_tenant(
    dataset: dict,
    *,
    shipped_lexicon: bool = True,
    own_vocabulary: bool = True,
    similar_questions: bool = True,
) -> dict[str, int]:
    """The set's entries into the active tenant, with the shipped lexicon, the set's own
    dictionary and synonyms and its entries' similar questions when asked (and present);
    returns set id -> entry id."""
    if shipped_lexicon:
        services.vocabulary_seed_shipped()
    if own_vocabulary and (dataset.get("dictionary") or dataset.get("synonyms")):
        services.vocabulary_add(
            words=dataset.get("dictionary", []), synonyms=dataset.get("synonyms", [])
        )
    ids = {}
    for item in dataset["entries"]:
        entry = services.entry_create(
            question=item["question"],
            answer=item["answer"],
            category=item.get("category", ""),
            tags=item.get("tags", []),
            verified=True,
        )
        ids[item["id"]] = entry.pk
        if similar_questions and item.get("similar_questions"):
            similar_questions_add(entry=entry, texts=item["similar_questions"])
    return ids


def evaluate(
    dataset: dict,
    ids: dict[str, int],
    *,
    search: Callable[[str], list[SearchHit]],
    threshold: float,
) -> Report:
    by_entry = {entry_id: key for key, entry_id in ids.items()}
    report = Report(threshold=threshold)
    for item in dataset["queries"]:
        hits = search(item["query"])
        found = [by_entry.get(hit.entry.pk, "?") for hit in hits]
        top_score = hits[0].score if hits else 0.0
        expected = set(item["expected"])
        kind = item.get("kind", "")
        if not expected:
            report.unanswerable += 1
            report.unanswerable_scores.append(top_score)
            if top_score >= threshold and hits:
                report.false_answers += 1
                report.misses.append((kind, item["query"], [], found[:3]))
            continue
        rank = next((i + 1 for i, key in enumerate(found) if key in expected), None)
        report.overall.add(rank)
        report.by_kind[kind].add(rank)
        if rank == 1:
            report.right_scores.append(top_score)
        if rank is None or rank > 3:
            report.misses.append((kind, item["query"], sorted(expected), found[:3]))
    return report
