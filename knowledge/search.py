"""The one knowledge search: the database ranks, the score is normalised to 0..1.

1. The query is segmented like the entries (tenant dictionary and synonyms).
   Only word tokens survive, so no user text ever reaches tsquery or FTS5
   syntax; each token is a plain lexeme (PostgreSQL) or a quoted string (FTS5).
2. The database finds and ranks candidates over its index: `ts_rank` with
   question weight A and answer weight B on PostgreSQL, `bm25()` with column
   weights on SQLite; verified entries get the configured boost.
3. The candidates get a normalised score that means the same on both
   databases: the weighted share of the query's tokens found in the entry
   (question hits count fully, answer hits by 1/question_weight), blended with
   the share of the entry's question that the query covers. The database rank
   breaks ties.
"""

from __future__ import annotations

import html
import logging
import re
import time
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction

from helpdesk.config import get_config
from helpdesk.db import select_columns
from helpdesk.tenancy import current_tenant
from knowledge import text, vocabulary
from knowledge.models import FTS_TABLE, KnowledgeEntry
from knowledge.search_mode import SearchMode

logger = logging.getLogger(__name__)

MAX_QUERY_TOKENS = 32
MAX_LIMIT = 50
MIN_CANDIDATES = 30
SNIPPET_CHARS = 160
QUERY_SHARE = 0.75
# PostgreSQL candidate selection (see _match_query).
COMMON_TOKEN_ROWS = 2000
MATCH_BUDGET_ROWS = 5000
MAX_RANKED_ROWS = 500
FREQUENCY_TTL = 300.0


@dataclass(frozen=True)
class SearchHit:
    entry: KnowledgeEntry
    score: float
    snippet: str


def query_tokens(query: str, segmenter: text.Segmenter) -> list[str]:
    """Distinct index tokens of a query, in order, capped."""
    seen: dict[str, None] = {}
    for token in segmenter.segment(query if isinstance(query, str) else ""):
        seen.setdefault(token, None)
    return list(seen)[:MAX_QUERY_TOKENS]


def _db_tokens(tokens: list[str]) -> list[str]:
    """Tokens sent to the index: single Chinese characters only when nothing else is left."""
    strong = [t for t in tokens if text.token_weight(t) > 0.3]
    return strong or tokens


_frequencies: tuple[float, dict[str, float]] = (0.0, {})


def _lexeme_rows() -> dict[str, float]:
    """Estimated number of rows containing each common lexeme, from PostgreSQL's statistics.

    ANALYZE keeps the most common elements of the tsvector column with their
    frequencies (the planner uses them too); lexemes not listed are rare.
    Refreshed at most every FREQUENCY_TTL seconds per process.
    """
    global _frequencies
    fetched_at, rows = _frequencies
    if time.monotonic() - fetched_at < FREQUENCY_TTL:
        return rows
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples "
            "FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename "
            "WHERE s.tablename = %s AND s.attname = 'search_vector'",
            [KnowledgeEntry._meta.db_table],
        )
        found = cursor.fetchone()
    rows = {}
    if found and found[0]:
        rows = {lexeme: share * found[2] for lexeme, share in zip(found[0], found[1], strict=False)}
    _frequencies = (time.monotonic(), rows)
    return rows


def tenant_lexeme_prefix(tenant_id: int) -> str:
    """The prefix of a tenant's lexemes in the PostgreSQL index (see migration 0001)."""
    return f"t{tenant_id}x"


def _match_query(tokens: list[str]) -> str:
    """The tsquery that selects candidates: the informative tokens, OR-ed.

    Ranking every row that shares one common word with the query ("升级",
    "失败") would cost time in proportion to the tenant's size. Candidates are
    the rows with the rarer tokens, rarest first, while their estimated rows
    stay within MATCH_BUDGET_ROWS; when every token is common, rows with all
    of the rarest ones.
    """
    estimates = _lexeme_rows()
    ordered = sorted(tokens, key=lambda t: estimates.get(t, 0.0))
    selected: list[str] = []
    spent = 0.0
    for token in ordered:
        rows = estimates.get(token, 0.0)
        if rows > COMMON_TOKEN_ROWS or (selected and spent + rows > MATCH_BUDGET_ROWS):
            break
        selected.append(token)
        spent += rows
    if selected:
        return " | ".join(selected)
    return " & ".join(ordered[:3])


def candidate_query_postgresql(
    tokens: list[str], *, tenant_id: int, limit: int, verified_only: bool, category: str | None
) -> tuple[str, list[object]]:
    """SQL and parameters of the ranked candidate query (the benchmark EXPLAINs it)."""
    config = get_config()
    answer_weight = min(1.0, 1.0 / max(config.get("knowledge.question_weight"), 0.01))
    prefix = tenant_lexeme_prefix(tenant_id)
    tokens = [prefix + token for token in tokens]
    filters = ""
    params: list[object] = [
        f"{{0.05,0.1,{answer_weight},1.0}}",
        config.get("knowledge.verified_boost"),
        " | ".join(tokens),
        tenant_id,
        _match_query(tokens),
    ]
    if verified_only:
        filters += " AND e.verified"
    if category:
        filters += " AND e.category = %s"
        params.append(category)
    params += [MAX_RANKED_ROWS, limit]
    # The inner query only selects (through the GIN index), at most MAX_RANKED_ROWS rows;
    # the outer one ranks them against every token of the query. The lexemes already
    # belong to the tenant; "tenant_id + 0" keeps the check but stops the planner from
    # also reading the tenant's whole btree range and intersecting the two bitmaps.
    sql = f"""
        SELECT {select_columns(KnowledgeEntry, "e")}, ts_rank(%s::float4[], c.search_vector, r)
               * CASE WHEN c.verified THEN %s ELSE 1 END AS rank
        FROM to_tsquery('simple', %s) r, (
            SELECT e.id, e.search_vector, e.verified
            FROM {KnowledgeEntry._meta.db_table} e
            WHERE e.tenant_id + 0 = %s AND e.is_active
              AND e.search_vector @@ to_tsquery('simple', %s){filters}
            LIMIT %s
        ) c
        JOIN {KnowledgeEntry._meta.db_table} e ON e.id = c.id
        ORDER BY rank DESC, c.id
        LIMIT %s
    """
    return sql, params


def _ranked(sql: str, params: list[object]) -> list[tuple[KnowledgeEntry, float]]:
    """(entry, rank) of a candidate query; the active tenant's manager makes the
    instances (its `raw()` needs a tenant scope; the SQL filters by tenant itself)."""
    return [(entry, float(entry.rank)) for entry in KnowledgeEntry.objects.raw(sql, params)]


def _candidates_postgresql(
    tokens: list[str], *, tenant_id: int, limit: int, verified_only: bool, category: str | None
) -> list[tuple[KnowledgeEntry, float]]:
    sql, params = candidate_query_postgresql(
        tokens, tenant_id=tenant_id, limit=limit, verified_only=verified_only, category=category
    )
    with connection.cursor() as cursor:
        # The planner underrates the cost of @@ on each row and, for a LIMIT, prefers walking
        # the tenant's rows (index or sequential scan) and testing each one; the GIN bitmap
        # scan is what stays fast at 100,000 rows (docs/benchmarks.md, knowledge search).
        # Only this statement runs with these settings (one round trip to set, one to reset).
        cursor.execute("SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = off")
        try:
            return _ranked(sql, params)
        finally:
            cursor.execute("RESET enable_indexscan; RESET enable_seqscan")


def _candidates_sqlite(
    tokens: list[str], *, tenant_id: int, limit: int, verified_only: bool, category: str | None
) -> list[tuple[KnowledgeEntry, float]]:
    config = get_config()
    match = " OR ".join(f'"{token}"' for token in tokens)
    filters = ""
    params: list[object] = [
        config.get("knowledge.question_weight"),
        config.get("knowledge.verified_boost"),
        match,
        tenant_id,
    ]
    if verified_only:
        filters += " AND e.verified"
    if category:
        filters += " AND e.category = %s"
        params.append(category)
    params.append(limit)
    sql = f"""
        SELECT {select_columns(KnowledgeEntry, "e")}, -bm25({FTS_TABLE}, %s, 1.0)
               * CASE WHEN e.verified THEN %s ELSE 1 END AS rank
        FROM {FTS_TABLE} f JOIN {KnowledgeEntry._meta.db_table} e ON e.id = f.rowid
        WHERE {FTS_TABLE} MATCH %s AND e.tenant_id = %s AND e.is_active{filters}
        ORDER BY rank DESC, e.id
        LIMIT %s
    """
    return _ranked(sql, params)


def normalised_score(
    tokens: list[str], entry: KnowledgeEntry, *, question_weight: float, boost: float
) -> float:
    question = set(entry.question_tokens.split())
    answer = set(entry.answer_tokens.split())
    answer_factor = min(1.0, 1.0 / max(question_weight, 0.01))
    total = sum(text.token_weight(t) for t in tokens)
    if not total:
        return 0.0
    found = sum(
        text.token_weight(t) * (1.0 if t in question else answer_factor if t in answer else 0.0)
        for t in tokens
    )
    query_share = found / total
    question_share = text.coverage(entry.question_tokens.split(), set(tokens))
    score = QUERY_SHARE * query_share + (1 - QUERY_SHARE) * question_share
    if entry.verified:
        score *= boost
    return min(1.0, score)


def search(
    query: str,
    *,
    limit: int = 5,
    verified_only: bool = False,
    category: str | None = None,
    mode: SearchMode | None = None,
) -> list[SearchHit]:
    """Entries of the active tenant that answer `query`, best first. Never raises on odd input."""
    tenant = current_tenant()
    # One segmenter for the whole search: finding it reads the vocabulary version (Redis).
    segmenter = vocabulary.segmenter_for(tenant.pk)
    tokens = query_tokens(query, segmenter)
    if not tokens:
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    find = _candidates_postgresql if connection.vendor == "postgresql" else _candidates_sqlite
    try:
        with transaction.atomic():
            ranked = find(
                _db_tokens(tokens),
                tenant_id=tenant.pk,
                limit=max(limit * 5, MIN_CANDIDATES),
                verified_only=verified_only,
                category=category or None,
            )
    except DatabaseError:
        # The query is built from word tokens only; log anything unexpected, answer "nothing".
        logger.exception("Knowledge search failed for %d tokens", len(tokens))
        return []
    if not ranked:
        return []
    config = get_config()
    question_weight = config.get("knowledge.question_weight")
    boost = config.get("knowledge.verified_boost")
    scored = []
    for position, (entry, _rank) in enumerate(ranked):
        score = normalised_score(tokens, entry, question_weight=question_weight, boost=boost)
        scored.append((score, -position, entry))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    highlight = _highlight_terms(query, tokens, segmenter)
    return [
        SearchHit(entry=entry, score=round(score, 4), snippet=snippet(entry, highlight))
        for score, _pos, entry in scored[:limit]
    ]


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
