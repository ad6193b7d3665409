"""The one knowledge search: lexical and semantic candidates, one calibrated 0..1 score.

1. Lexical candidates (`knowledge.lexical`): the database ranks entries that share words
   with the query (tenant dictionary and synonyms, the shipped lexicon, general synonyms
   as weak expansions, similar questions indexed with the question).
2. Semantic candidates (`knowledge.semantic`): the query's embedding against the tenant's
   entry vectors (pgvector or in-process, `knowledge.vectors`); each lexical candidate
   also gets its similarity. When the embeddings service is down the search is lexical
   only, and says so in the logs and metrics.
3. Every candidate gets one calibrated score (`knowledge.fusion`), optionally re-ordered
   by the LLM (`knowledge.rerank`, off by default).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from helpdesk.tenancy import current_tenant
from knowledge import text, vocabulary
from knowledge.fusion import fused_ranking
from knowledge.lexical import LexicalResult, lexical_candidates
from knowledge.models import KnowledgeEntry
from knowledge.rerank import rerank
from knowledge.search_mode import SearchMode
from knowledge.semantic import SemanticResult, add_similarities, semantic_candidates

MAX_LIMIT = 50
MIN_CANDIDATES = 30
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class SearchHit:
    entry: KnowledgeEntry
    score: float
    snippet: str


def search(
    query: str,
    *,
    limit: int = 5,
    verified_only: bool = False,
    category: str | None = None,
    mode: SearchMode | None = None,
) -> list[SearchHit]:
    """Entries of the active tenant that answer `query`, best first. Never raises on odd input.

    `mode` switches retrieval layers (default: as configured; the evaluation's ablation
    passes its own).
    """
    query = query if isinstance(query, str) else ""
    mode = mode or SearchMode.configured()
    tenant = current_tenant()
    # One segmenter for the whole search: finding it reads the vocabulary version (Redis).
    segmenter = vocabulary.segmenter_for(tenant.pk)
    limit = max(1, min(int(limit), MAX_LIMIT))
    pool = max(limit * 5, MIN_CANDIDATES)
    lexical = LexicalResult(tokens=[])
    if mode.lexical:
        lexical = lexical_candidates(
            query,
            tenant_id=tenant.pk,
            segmenter=segmenter,
            limit=pool,
            verified_only=verified_only,
            category=category,
            expand=mode.general_synonyms,
        )
        if not lexical.tokens:
            return []
    semantic = SemanticResult(available=False)
    if mode.semantic:
        semantic = semantic_candidates(query, tenant_id=tenant.pk, limit=pool)
        add_similarities(semantic, [entry.pk for entry, _score in lexical.scored])
    scored = _fuse(query, lexical, semantic, verified_only=verified_only, category=category)
    if mode.rerank:
        scored = rerank(query, scored, limit=limit)
    highlight = _highlight_terms(query, lexical.tokens, segmenter)
    return [
        SearchHit(entry=entry, score=round(score, 4), snippet=snippet(entry, highlight))
        for entry, score in scored[:limit]
    ]


def _fuse(
    query: str,
    lexical: LexicalResult,
    semantic: SemanticResult,
    *,
    verified_only: bool,
    category: str | None,
) -> list[tuple[KnowledgeEntry, float]]:
    entries = {entry.pk: entry for entry, _score in lexical.scored}
    lexical_scores = {entry.pk: score for entry, score in lexical.scored}
    only_semantic = [i for i in semantic.similarities if i not in entries]
    if only_semantic:
        found = KnowledgeEntry.objects.filter(pk__in=only_semantic, is_active=True)
        if verified_only:
            found = found.filter(verified=True)
        if category:
            found = found.filter(category=category)
        entries.update((entry.pk, entry) for entry in found)
    cosines = (
        {i: c for i, c in semantic.similarities.items() if i in entries}
        if semantic.available
        else None
    )
    ranking = fused_ranking(
        {i: lexical_scores.get(i, 0.0) for i in entries},
        cosines,
        query,
        verified={i for i, entry in entries.items() if entry.verified},
    )
    return [(entries[entry_id], score) for entry_id, score in ranking]


def _highlight_terms(query: str, tokens: list[str], segmenter: text.Segmenter) -> list[str]:
    surface = set(segmenter.surface_tokens(query if isinstance(query, str) else ""))
    terms = {t for t in surface | set(tokens) if text.token_weight(t) > 0.3}
    terms -= text.STOPWORDS
    return sorted(terms, key=len, reverse=True)


def snippet(entry: KnowledgeEntry, terms: list[str]) -> str:
    """HTML-escaped text around the first match in the answer, matches wrapped in <mark>."""
    body = entry.answer or entry.question
    if not terms:
        return html.escape(body[:SNIPPET_CHARS])
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    first = pattern.search(body)
    start = max(0, (first.start() if first else 0) - SNIPPET_CHARS // 4)
    window = body[start : start + SNIPPET_CHARS]
    parts = []
    last = 0
    for match in pattern.finditer(window):
        parts.append(html.escape(window[last : match.start()]))
        parts.append(f"<mark>{html.escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(html.escape(window[last:]))
    prefix = "…" if start else ""
    suffix = "…" if start + SNIPPET_CHARS < len(body) else ""
    return prefix + "".join(parts) + suffix
