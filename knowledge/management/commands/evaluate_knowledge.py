"""manage.py evaluate_knowledge: retrieval quality on the shipped evaluation set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Tenant
from helpdesk.commands import active_tenant
from helpdesk.tenancy import tenant_scope
from knowledge.evaluation.run import DATASET, evaluate, load_dataset, load_into_active_tenant


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Load the evaluation set into a throwaway tenant (rolled back afterwards) or into "
        "--tenant, run its queries and print recall@1, recall@3, MRR and the share of "
        "unanswerable queries that score above the answer threshold."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", help="Load into this tenant (kept) instead.")
        parser.add_argument("--dataset", default=str(DATASET), help="Path of dataset.json.")
        parser.add_argument("--misses", action="store_true", help="List the missed queries.")

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = load_dataset(Path(options["dataset"]))
        if options["tenant"]:
            with tenant_scope(active_tenant(options["tenant"])), transaction.atomic():
                self._run(dataset, options)
            return
        try:
            with transaction.atomic():
                tenant = Tenant.objects.create(name="evaluation", slug="knowledge-evaluation")
                with tenant_scope(tenant):
                    self._run(dataset, options)
                raise _Rollback
        except _Rollback:
            pass

    def _run(self, dataset: dict, options: dict) -> None:
        report = evaluate(dataset, load_into_active_tenant(dataset))
        write = self.stdout.write
        write(f"entries: {len(dataset['entries'])}, queries: {len(dataset['queries'])}")
        write(f"recall@1: {report.recall_at_1:.3f}")
        write(f"recall@3: {report.recall_at_3:.3f}")
        write(f"MRR: {report.mrr:.3f}")
        write(
            f"unanswerable above threshold {report.threshold:.2f}: "
            f"{report.false_answers}/{report.unanswerable} ({report.false_answer_rate:.3f})"
        )
        for kind, (hit, total) in sorted(report.by_kind.items()):
            write(f"  recall@3 {kind}: {hit}/{total}")
        if options["misses"]:
            for query, expected, found in report.misses:
                write(f"  miss: {query[:60]!r} expected {expected} got {found}")
