"""Retrieval quality on the shipped evaluation sets (a quality floor, not timing)."""

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Tenant
from knowledge.evaluation.ablation import OWN_VOCABULARY, run_step
from knowledge.evaluation.run import HOLDOUT_SET, TEST_SET, load_dataset


def test_development_set_floor_with_its_own_vocabulary(db):
    dataset = load_dataset()
    assert len(dataset["entries"]) >= 60 and len(dataset["queries"]) >= 120
    report = run_step(dataset, OWN_VOCABULARY)
    # Measured: recall@1 0.940, recall@3 0.988, MRR 0.966, 4/30 false answers.
    assert report.overall.recall_at_3 >= 0.96
    assert report.overall.recall_at_1 >= 0.90
    assert report.overall.mrr >= 0.93
    assert report.false_answer_rate <= 0.2


@pytest.mark.parametrize("path", [TEST_SET, HOLDOUT_SET], ids=["test", "holdout"])
def test_the_later_sets_are_separate_and_cover_every_kind(path):
    test = load_dataset(path)
    earlier = [load_dataset(), *([load_dataset(TEST_SET)] if path == HOLDOUT_SET else [])]
    assert "dictionary" not in test and "synonyms" not in test
    assert not {e["question"] for e in test["entries"]} & {
        e["question"] for dataset in earlier for e in dataset["entries"]
    }
    kinds = {q["kind"] for q in test["queries"]}
    assert kinds >= {
        "paraphrase",
        "colloquial",
        "typo",
        "mixed_english",
        "short",
        "long",
        "exact",
        "unanswerable",
    }
    ids = {e["id"] for e in test["entries"]}
    assert all(set(q["expected"]) <= ids for q in test["queries"])


def test_command_prints_every_set_and_rolls_back(db):
    out = StringIO()
    call_command("evaluate_knowledge", "--step", "lexical only", stdout=out)
    printed = out.getvalue()
    assert "## development set" in printed and "## test set" in printed
    assert "## holdout set" in printed
    assert "| lexical only |" in printed and "| paraphrase |" in printed
    assert not Tenant.objects.filter(slug="knowledge-evaluation").exists()
