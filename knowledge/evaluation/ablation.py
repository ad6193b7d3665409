"""The ablation: each retrieval layer added in turn, every step on a fresh tenant that is
rolled back afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from django.db import transaction

from accounts.models import Tenant
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from knowledge.evaluation.run import Report, evaluate, load_into_active_tenant
from knowledge.search import search
from knowledge.search_mode import LEXICAL_ONLY, SearchMode


@dataclass(frozen=True)
class Step:
    name: str
    mode: SearchMode
    own_vocabulary: bool = False
    similar_questions: bool = False


STEPS = [
    Step("lexical only", LEXICAL_ONLY),
]
# The development set's own dictionary and synonyms, written for its queries: the
# number reported before this evaluation existed.
OWN_VOCABULARY = Step("own vocabulary (tuned)", LEXICAL_ONLY, own_vocabulary=True)


class _Rollback(Exception):
    pass


def run_step(dataset: dict, step: Step, *, threshold: float | None = None) -> Report:
    """The step's report on a throwaway tenant."""
    threshold = get_config().get("knowledge.answer_threshold") if threshold is None else threshold
    report: Report | None = None
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(name="evaluation", slug="knowledge-evaluation")
            with tenant_scope(tenant):
                ids = load_into_active_tenant(
                    dataset,
                    own_vocabulary=step.own_vocabulary,
                    similar_questions=step.similar_questions,
                )
                report = evaluate(
                    dataset,
                    ids,
                    search=partial(search, limit=10, mode=step.mode),
                    threshold=threshold,
                )
            raise _Rollback
    except _Rollback:
        pass
    assert report is not None
    return report


def steps_for(dataset: dict, names: list[str] | None = None) -> list[Step]:
    steps = list(STEPS)
    if dataset.get("dictionary") or dataset.get("synonyms"):
        steps.insert(1, OWN_VOCABULARY)
    if names:
        steps = [step for step in steps if step.name in names]
    return steps
