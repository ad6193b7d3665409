"""Knowledge metrics for the alert rules: searches that fell back to lexical because the
embeddings service failed, and failed embedding calls, over the window [since, until)
(counted per hour in the shared cache, `llm.embedding_metrics`)."""

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from alerts.registry import Unit, metric
from llm import embedding_metrics


@metric(
    "knowledge.semantic_fallbacks",
    unit=Unit.COUNT,
    label=_("Searches without semantic retrieval (embeddings service down)"),
)
def semantic_fallbacks(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    return float(embedding_metrics.totals(tenant.pk, "search_fallback", since, until)["failures"])


@metric("knowledge.embedding_failures", unit=Unit.COUNT, label=_("Failed embedding calls"))
def embedding_failures(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    return float(
        sum(
            embedding_metrics.totals(tenant.pk, kind, since, until)["failures"]
            for kind in ("query", "passage")
        )
    )
