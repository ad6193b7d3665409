"""Lexical retrieval: the database finds and ranks candidates over its index, and each
candidate gets a normalised 0..1 score.

1. The query is segmented like the entries (tenant dictionary and synonyms). Only word
   tokens survive, so no user text ever reaches tsquery or FTS5 syntax; each token is a
   plain lexeme (PostgreSQL) or a quoted string (FTS5).
2. Weak expansions (`knowledge.general_synonyms`) join the candidate query, so an entry
   that uses a general synonym of a query word is found too.
3. The database ranks candidates: `ts_rank` with question weight A and answer weight B on
   PostgreSQL, `bm25()` with column weights on SQLite; verified entries get the boost.
4. The normalised score means the same on both databases: the weighted share of the
   query's tokens found in the entry (question hits count fully, answer hits by
   1/question_weight, a weak expansion's hit by EXPANSION_CREDIT), blended with the share
   of the entry's best-covered question (the question or one of its similar questions,
   which are indexed with it, one per line) that the query covers.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction

from helpdesk.config import get_config
from helpdesk.db import select_columns
from knowledge import general_synonyms, text
from knowledge.models import FTS_TABLE, KnowledgeEntry

logger = logging.getLogger(__name__)

MAX_QUERY_TOKENS = 32
QUERY_SHARE = 0.75
# A general synonym's hit counts this much of the query word's own.
EXPANSION_CREDIT = 0.6
MAX_DB_TOKENS = 64
# PostgreSQL candidate selection (see _match_query).
COMMON_TOKEN_ROWS = 2000
MATCH_BUDGET_ROWS = 5000
MAX_RANKED_ROWS = 500
FREQUENCY_TTL = 300.0


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
    tokens: list[str],
    entry: KnowledgeEntry,
    *,
    question_weight: float,
    boost: float,
    expansions: dict[str, tuple[str, ...]] | None = None,
) -> float:
    expansions = expansions or {}
    questions = [line.split() for line in entry.question_tokens.split("\n")]
    question = set().union(*questions) if questions else set()
    answer = set(entry.answer_tokens.split())
    answer_factor = min(1.0, 1.0 / max(question_weight, 0.01))
    total = sum(text.token_weight(t) for t in tokens)
    if not total:
        return 0.0

    def credit(token: str, found_in: set[str], answer_side: set[str]) -> float:
        if token in found_in:
            return 1.0
        if token in answer_side:
            return answer_factor
        alternatives = expansions.get(token, ())
        if any(a in found_in for a in alternatives):
            return EXPANSION_CREDIT
        if any(a in answer_side for a in alternatives):
            return EXPANSION_CREDIT * answer_factor
        return 0.0

    found = sum(text.token_weight(t) * credit(t, question, answer) for t in tokens)
    query_share = found / total
    question_share = max(
        (_question_coverage(q, tokens, expansions) for q in questions if q), default=0.0
    )
    score = QUERY_SHARE * query_share + (1 - QUERY_SHARE) * question_share
    if entry.verified:
        score *= boost
    return min(1.0, score)


def _question_coverage(
    question: list[str], tokens: list[str], expansions: dict[str, tuple[str, ...]]
) -> float:
    """Share (by weight) of the question's distinct tokens the query covers."""
    covered = set(tokens)
    for token in tokens:
        covered.update(expansions.get(token, ()))
    distinct = set(question)
    total = sum(text.token_weight(t) for t in distinct)
    if not total:
        return 0.0
    return sum(text.token_weight(t) for t in distinct if t in covered) / total


@dataclass
class LexicalResult:
    tokens: list[str]
    scored: list[tuple[KnowledgeEntry, float]] = field(default_factory=list)


def lexical_candidates(
    query: str,
    *,
    tenant_id: int,
    segmenter: text.Segmenter,
    limit: int,
    verified_only: bool = False,
    category: str | None = None,
    expand: bool = False,
) -> LexicalResult:
    """Up to `limit` entries sharing words with `query`, best normalised score first."""
    tokens = query_tokens(query, segmenter)
    result = LexicalResult(tokens)
    if not tokens:
        return result
    expansions = general_synonyms.expansions_for(tokens, segmenter) if expand else {}
    wanted = _db_tokens(tokens)
    wanted += [a for t in wanted for a in expansions.get(t, ()) if a not in wanted]
    find = _candidates_postgresql if connection.vendor == "postgresql" else _candidates_sqlite
    try:
        with transaction.atomic():
            ranked = find(
                wanted[:MAX_DB_TOKENS],
                tenant_id=tenant_id,
                limit=limit,
                verified_only=verified_only,
                category=category or None,
            )
    except DatabaseError:
        # The query is built from word tokens only; log anything unexpected, answer "nothing".
        logger.exception("Knowledge search failed for %d tokens", len(tokens))
        return result
    config = get_config()
    question_weight = config.get("knowledge.question_weight")
    boost = config.get("knowledge.verified_boost")
    scored = []
    for position, (entry, _rank) in enumerate(ranked):
        score = normalised_score(
            tokens, entry, question_weight=question_weight, boost=boost, expansions=expansions
        )
        scored.append((score, -position, entry))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    result.scored = [(entry, score) for score, _p, entry in scored]
    return result
