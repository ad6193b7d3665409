"""Retrieval quality on the evaluation set: recall@1, recall@3, MRR, false answers."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from helpdesk.config import get_config
from knowledge import services
from knowledge.search import search

DATASET = Path(__file__).resolve().parent / "dataset.json"


@dataclass
class Report:
    answerable: int = 0
    unanswerable: int = 0
    hits_at_1: int = 0
    hits_at_3: int = 0
    reciprocal_ranks: float = 0.0
    false_answers: int = 0
    threshold: float = 0.0
    by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    @property
    def recall_at_1(self) -> float:
        return self.hits_at_1 / self.answerable if self.answerable else 0.0

    @property
    def recall_at_3(self) -> float:
        return self.hits_at_3 / self.answerable if self.answerable else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.answerable if self.answerable else 0.0

    @property
    def false_answer_rate(self) -> float:
        return self.false_answers / self.unanswerable if self.unanswerable else 0.0


def load_dataset(path: Path = DATASET) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load_into_active_tenant(dataset: dict) -> dict[str, int]:
    """Dictionary, synonyms and entries into the active tenant; returns dataset id -> entry id."""
    services.vocabulary_replace(words=dataset["dictionary"], synonyms=dataset["synonyms"])
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
    return ids


def evaluate(dataset: dict, ids: dict[str, int]) -> Report:
    by_entry = {entry_id: key for key, entry_id in ids.items()}
    report = Report(threshold=get_config().get("knowledge.answer_threshold"))
    for item in dataset["queries"]:
        hits = search(item["query"], limit=10)
        found = [by_entry.get(hit.entry.pk, "?") for hit in hits]
        expected = set(item["expected"])
        kind = item.get("kind", "")
        if not expected:
            report.unanswerable += 1
            if hits and hits[0].score >= report.threshold:
                report.false_answers += 1
                report.misses.append((item["query"], [], found[:3]))
            continue
        report.answerable += 1
        rank = next((i + 1 for i, key in enumerate(found) if key in expected), None)
        report.by_kind[kind][1] += 1
        if rank == 1:
            report.hits_at_1 += 1
        if rank is not None and rank <= 3:
            report.hits_at_3 += 1
            report.by_kind[kind][0] += 1
        else:
            report.misses.append((item["query"], sorted(expected), found[:3]))
        if rank is not None:
            report.reciprocal_ranks += 1 / rank
    return report
