"""Benchmark: knowledge search at 100,000 entries in one tenant and 1,000,000 across tenants.

    .venv/bin/python bench/knowledge_search.py            # 100k big tenant + 900k in 9 others
    .venv/bin/python bench/knowledge_search.py --small    # 10k big tenant + 40k in 4 others
    .venv/bin/python bench/knowledge_search.py --reuse    # measure again without reloading

It creates a separate PostgreSQL database (default `helpdesk_bench_kb`, dropped
and created again), runs the migrations, and generates realistic Chinese Q&A by
recombining the evaluation set's questions, answers and domain words. Entries
are segmented in Python (the product's segmenter with the evaluation
dictionary and synonyms) and bulk-loaded with COPY; the GIN index is dropped
during the load and its build is timed. Then it times `knowledge.search.search`
(segmentation, ranked SQL, normalised scores, snippets) for short and long
queries, first with only the big tenant loaded and again with 1,000,000 rows,
and compares with rank-bm25 (BM25Okapi over the same tokens, in Python) on the
big tenant. It prints EXPLAIN ANALYZE of one ranked query.

Server: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import recreate_database, setup_django  # noqa: E402

MODELS = ["星途", "远航", "极光", "追风", "领航者", "云图", "青松", "赤霞", "墨影", "北辰"]
YEARS = ["2021款", "2022款", "2023款", "2024款", "2025款", "2026款"]
PREFIXES = ["", "", "请问", "车主咨询：", "售后常见问题：", "用户反馈", "经销商提问："]
SUFFIXES = ["", "", "？", "，急", "（高频）", "，多次出现", "，求助"]
EXTRA = [
    "如仍未解决，请联系在线客服并提供车架号。",
    "操作前请确保车辆处于驻车状态。",
    "必要时可预约进站抓取日志进一步排查。",
    "该问题已在最新版本中优化。",
    "",
    "",
]


def generate(dataset: dict, count: int, seed: int) -> list[tuple[str, str, str]]:
    """(question, answer, category) triples recombined from the evaluation entries."""
    rng = random.Random(seed)
    entries = dataset["entries"]
    words = dataset["dictionary"]
    rows = []
    for number in range(count):
        base = rng.choice(entries)
        other = rng.choice(entries)
        model = f"{rng.choice(MODELS)}{rng.choice(YEARS)}"
        question = (
            f"{rng.choice(PREFIXES)}{model}{base['question'].rstrip('？?')}{rng.choice(SUFFIXES)}"
        )
        if number % 3 == 0:
            question += f"（{rng.choice(words)}）"
        answer = (
            f"{base['answer']}{rng.choice(EXTRA)}相关：{other['question']} 编号 KB{number:07d}。"
        )
        rows.append((question, answer, base["category"]))
    return rows


def load_tenant(tenant, rows: list[tuple[str, str, str]]) -> float:
    """Segment and COPY rows into the tenant; returns seconds spent."""
    from django.db import connection

    from helpdesk.tenancy import tenant_scope
    from knowledge import vocabulary
    from knowledge.entries import content_hash

    started = time.perf_counter()
    now = "2026-11-27 00:00:00+00"
    with tenant_scope(tenant):
        segmenter = vocabulary.segmenter_for(tenant.pk)
        buffer = io.StringIO()
        for question, answer, category in rows:
            fields = [
                str(tenant.pk),
                question,
                answer,
                category,
                "[]",
                "import",
                "",
                content_hash(question, answer),
                "t",
                "t",
                "0",
                " ".join(segmenter.segment(question)),
                " ".join(segmenter.segment(answer)),
                now,
                now,
            ]
            buffer.write(
                "\t".join(
                    f.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ") for f in fields
                )
                + "\n"
            )
    columns = (
        "tenant_id, question, answer, category, tags, source, source_document, content_hash, "
        "verified, is_active, usage_count, question_tokens, answer_tokens, created_at, updated_at"
    )
    connection.ensure_connection()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY knowledge_knowledgeentry ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
    return time.perf_counter() - started


def add_vocabulary(tenant, dataset: dict) -> None:
    from helpdesk.tenancy import tenant_scope
    from knowledge.models import CustomWord, SynonymGroup
    from knowledge.vocabulary import forget_vocabulary_version

    with tenant_scope(tenant):
        CustomWord.objects.bulk_create(CustomWord(word=w) for w in dataset["dictionary"])
        SynonymGroup.objects.bulk_create(SynonymGroup(terms=t) for t in dataset["synonyms"])
    forget_vocabulary_version(tenant.pk)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def timed(call, queries: list[str], rounds: int) -> list[float]:
    for query in queries[:3]:
        call(query)
    samples = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter()
            call(query)
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def report(label: str, samples: list[float]) -> None:
    print(
        f"  {label:<44} median {statistics.median(samples):7.2f} ms   "
        f"p95 {p95(samples):7.2f} ms   n={len(samples)}"
    )


def measure_search(tenant, queries: dict[str, list[str]], rounds: int, label: str) -> None:
    from helpdesk.tenancy import tenant_scope
    from knowledge.search import search

    print(f"search() in tenant {tenant.slug} ({label}):")
    with tenant_scope(tenant):
        for kind, items in queries.items():
            report(f"{kind} queries", timed(lambda q: search(q, limit=5), items, rounds))


def explain(tenant, query: str) -> None:
    from django.db import connection, transaction

    from helpdesk.tenancy import tenant_scope
    from knowledge import vocabulary
    from knowledge.lexical import _db_tokens, candidate_query_postgresql, query_tokens

    with tenant_scope(tenant):
        tokens = _db_tokens(query_tokens(query, vocabulary.segmenter_for(tenant.pk)))
    sql, params = candidate_query_postgresql(
        tokens, tenant_id=tenant.pk, limit=30, verified_only=False, category=None
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print(f"EXPLAIN ANALYZE for {query!r} (tokens {' '.join(tokens)})")
        for (line,) in cursor.fetchall():
            print("  " + line)


def measure_bm25(tenant, queries: dict[str, list[str]]) -> None:
    from rank_bm25 import BM25Okapi

    from helpdesk.tenancy import tenant_scope
    from knowledge import vocabulary
    from knowledge.models import KnowledgeEntry

    with tenant_scope(tenant):
        started = time.perf_counter()
        rows = list(KnowledgeEntry.objects.values_list("id", "question_tokens", "answer_tokens"))
        corpus = [(q + " " + q + " " + a).split() for _id, q, a in rows]
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        bm25 = BM25Okapi(corpus)
        built = time.perf_counter() - started
        print(
            f"rank-bm25 BM25Okapi over the same tokens, {len(rows):,} entries "
            f"(question counted twice): read {loaded:.1f} s, build {built:.1f} s"
        )
        segmenter = vocabulary.segmenter_for(tenant.pk)

        def rank(query: str) -> list[int]:
            scores = bm25.get_scores(list(dict.fromkeys(segmenter.segment(query))))
            top = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:5]
            return [rows[i][0] for i in top]

        for kind, items in queries.items():
            report(f"rank-bm25 {kind} queries", timed(rank, items[:15], 1))


def load_queries() -> dict[str, list[str]]:
    dataset = json.loads((ROOT / "knowledge/evaluation/dataset.json").read_text("utf-8"))
    return {
        "short": [q["query"] for q in dataset["queries"] if q["kind"] in ("short", "typo")],
        "long": [q["query"] for q in dataset["queries"] if q["kind"] == "long"],
    }


def remeasure(args) -> None:
    setup_django(args.database)
    from accounts.models import Tenant
    from knowledge.models import KnowledgeEntry

    queries = load_queries()
    total = KnowledgeEntry.all_tenants.count()
    for slug in ("bench-big", "bench-0"):
        tenant = Tenant.objects.get(slug=slug)
        measure_search(tenant, queries, args.rounds, f"{total:,} rows in the table")
    explain(Tenant.objects.get(slug="bench-big"), "OTA升级失败")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="10k + 40k entries")
    parser.add_argument("--database", default="helpdesk_bench_kb")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="measure the loaded database again")
    args = parser.parse_args()
    if args.reuse:
        remeasure(args)
        return
    big, others, other_size = (10_000, 4, 10_000) if args.small else (100_000, 9, 100_000)

    recreate_database(args.database)
    setup_django(args.database, migrate=True)
    from django.db import connection

    from accounts.models import Tenant

    dataset = json.loads((ROOT / "knowledge/evaluation/dataset.json").read_text("utf-8"))
    queries = load_queries()
    print(
        f"database {args.database}: big tenant {big:,} entries, then {others} more tenants of "
        f"{other_size:,} ({big + others * other_size:,} in all)"
    )
    print(
        f"queries: {len(queries['short'])} short/typo, {len(queries['long'])} long (94-127 chars)"
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX knowledge_search_gin")

    main_tenant = Tenant.objects.create(name="bench big", slug="bench-big")
    add_vocabulary(main_tenant, dataset)
    seconds = load_tenant(main_tenant, generate(dataset, big, seed=1))
    print(f"load {big:,} entries (segment + COPY, tsvector generated): {seconds:.1f} s")
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "CREATE INDEX knowledge_search_gin ON knowledge_knowledgeentry "
            "USING gin (search_vector)"
        )
        print(f"GIN index build ({big:,} rows): {time.perf_counter() - started:.1f} s")
        cursor.execute("VACUUM ANALYZE knowledge_knowledgeentry")
    measure_search(main_tenant, queries, args.rounds, f"{big:,} rows in the table")
    explain(main_tenant, "OTA升级失败")
    measure_bm25(main_tenant, queries)

    started = time.perf_counter()
    small_tenant = None
    for number in range(others):
        tenant = Tenant.objects.create(name=f"bench {number}", slug=f"bench-{number}")
        load_tenant(tenant, generate(dataset, other_size, seed=100 + number))
        small_tenant = small_tenant or tenant
    print(
        f"load {others * other_size:,} more entries with the GIN index in place: "
        f"{time.perf_counter() - started:.1f} s"
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE knowledge_knowledgeentry")
        cursor.execute("SELECT pg_size_pretty(pg_relation_size('knowledge_search_gin'))")
        print(f"GIN index size: {cursor.fetchone()[0]}")
    total = big + others * other_size
    measure_search(main_tenant, queries, args.rounds, f"{total:,} rows in the table")
    measure_search(small_tenant, queries, 1, f"{total:,} rows, no tenant vocabulary")
    explain(main_tenant, "OTA升级失败")
    explain(main_tenant, queries["long"][0])


if __name__ == "__main__":
    main()
