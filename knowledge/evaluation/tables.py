"""The evaluation's reports as Markdown tables (docs/benchmarks.md takes them as printed)."""

from __future__ import annotations

from knowledge.evaluation.run import Report

KINDS = ("paraphrase", "colloquial", "typo", "mixed_english", "short", "long", "exact")


def ablation_table(rows: list[tuple[str, Report]]) -> list[str]:
    kinds = [k for k in KINDS if any(k in report.by_kind for _n, report in rows)]
    header = ["step", "R@1", "R@3", "MRR", "false answers", *(f"R@3 {k}" for k in kinds)]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for name, report in rows:
        cells = [
            name,
            f"{report.overall.recall_at_1:.3f}",
            f"{report.overall.recall_at_3:.3f}",
            f"{report.overall.mrr:.3f}",
            f"{report.false_answers}/{report.unanswerable} ({report.false_answer_rate:.2f})",
            *(f"{report.by_kind[k].recall_at_3:.2f}" for k in kinds),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def kind_table(report: Report) -> list[str]:
    lines = ["| kind | queries | R@1 | R@3 | MRR |", "| --- | --- | --- | --- | --- |"]
    for kind in [k for k in KINDS if k in report.by_kind] + sorted(
        k for k in report.by_kind if k not in KINDS
    ):
        score = report.by_kind[kind]
        lines.append(
            f"| {kind} | {score.total} | {score.recall_at_1:.3f} | {score.recall_at_3:.3f} "
            f"| {score.mrr:.3f} |"
        )
    overall = report.overall
    lines.append(
        f"| all answerable | {overall.total} | {overall.recall_at_1:.3f} "
        f"| {overall.recall_at_3:.3f} | {overall.mrr:.3f} |"
    )
    lines.append(
        f"| unanswerable above {report.threshold:.2f} | {report.unanswerable} "
        f"| {report.false_answers} ({report.false_answer_rate:.2f}) | | |"
    )
    return lines
