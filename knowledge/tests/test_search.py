"""Segmentation, the search service and the tenant vocabulary."""

import pytest

from helpdesk.tenancy import tenant_scope
from knowledge import services, vocabulary
from knowledge.models import KnowledgeEntry
from knowledge.search import search

ODD_QUERIES = [
    "",
    " ",
    "退",
    "？？？！！！",
    "-" * 33,
    "' OR 1=1 --",
    'foo & bar | !baz <-> "quoted" :* (a)',
    "NEAR(a b) AND OR NOT * ^",
    "退款" * 5000,
    "OTA升级fail了 refund 多久",
    "😀🚗💥",
    "\x00\x1f\\",
    "ｏｔａ　升级",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_never_raise(query, kb_a, scope_a):
    hits = search(query, limit=5)
    assert all(0.0 <= hit.score <= 1.0 for hit in hits)


def test_finds_paraphrase_and_ranks_question_first(kb_a, scope_a):
    hits = search("我想退款，要怎么操作")
    assert hits[0].entry.question == "如何申请退款？"
    assert hits[0].score >= 0.40


def test_full_width_and_mixed_english(kb_a, scope_a):
    hits = search("ｏｔａ 升级 fail")
    assert hits[0].entry.question == "OTA 升级失败怎么办？"


def test_unrelated_query_scores_low(kb_a, scope_a):
    hits = search("今天股市行情怎么样")
    assert not hits or hits[0].score < 0.40


def test_snippet_is_escaped_and_highlighted(tenant_a, scope_a):
    services.entry_create(question="脚本<script>问题", answer="<b>退款</b> 会原路退回")
    hit = search("退款")[0]
    assert "<script>" not in hit.snippet and "&lt;b&gt;" in hit.snippet
    assert "<mark>退款</mark>" in hit.snippet


def test_filters_verified_category_and_inactive(kb_a, scope_a, agent_a):
    draft = services.entry_create(question="退款发票怎么开", answer="在发票页申请。")
    assert draft.pk in [h.entry.pk for h in search("退款发票")]
    assert draft.pk not in [h.entry.pk for h in search("退款发票", verified_only=True)]
    assert {h.entry.category for h in search("退款", category="退款")} == {"退款"}
    services.entry_deactivate(entry=draft)
    assert draft.pk not in [h.entry.pk for h in search("退款发票")]


def test_verified_entries_get_the_boost(tenant_a, scope_a, agent_a):
    draft = services.entry_create(question="蓝牙连接失败", answer="重新配对蓝牙。")
    verified = services.entry_create(
        question="蓝牙连接失败", answer="重启车机后配对蓝牙。", actor=agent_a, verified=True
    )
    hits = search("蓝牙连接失败")
    assert hits[0].entry.pk == verified.pk
    assert hits[0].score >= hits[1].score and hits[1].entry.pk == draft.pk


def test_tenants_never_see_each_other(kb_a, kb_b, tenant_a, tenant_b):
    with tenant_scope(tenant_b):
        ids = {h.entry.pk for h in search("退款")}
        assert ids == {kb_b[0].pk}
    with tenant_scope(tenant_a):
        assert kb_b[0].pk not in {h.entry.pk for h in search("租户乙的退款规则")}


def test_dictionary_and_synonyms_reindex_the_tenant(
    tenant_a, tenant_b, scope_a, django_capture_on_commit_callbacks
):
    entry = services.entry_create(question="远程控制用不了", answer="检查 TBOX 信号。")
    assert "远程控制" not in entry.question_tokens.split()
    with django_capture_on_commit_callbacks(execute=True):
        services.vocabulary_replace(words=["远程控制", "TBOX"], synonyms=[["远程控制", "远控"]])
    entry.refresh_from_db()
    assert "远程控制" in entry.question_tokens.split()
    assert search("远控失灵")[0].entry.pk == entry.pk
    with tenant_scope(tenant_b):
        # Tenant B keeps the default segmentation.
        assert vocabulary.segment("远控") != ["远程控制"]


def test_segment_and_similarity(tenant_a, scope_a):
    services.vocabulary_replace(words=["数字钥匙"], synonyms=[["登录", "登陆", "log in"]])
    assert "数字钥匙" in vocabulary.segment("数字钥匙打不开")
    assert "登录" in vocabulary.segment("App 登陆不上") and "登录" in vocabulary.segment(
        "cannot log in"
    )
    assert vocabulary.similarity("如何申请退款", "怎么申请退款？") > 0.8
    assert vocabulary.similarity("如何申请退款", "蓝牙连接失败") == 0.0
    assert vocabulary.similarity("", "退款") == 0.0


def test_vocabulary_bad_input_keeps_the_old_one(tenant_a, scope_a):
    services.vocabulary_replace(words=["数字钥匙"], synonyms=[])
    with pytest.raises(services.ValidationError):
        services.vocabulary_replace(words=["ok"], synonyms=[["only-one"]])
    assert list(services.CustomWord.objects.values_list("word", flat=True)) == ["数字钥匙"]


def test_record_usage_increments_atomically(kb_a, scope_a):
    ids = [kb_a[0].pk, kb_a[1].pk]
    services.entries_record_usage(entry_ids=ids)
    services.entries_record_usage(entry_ids=[*ids, ids[0]])
    counts = dict(KnowledgeEntry.objects.values_list("pk", "usage_count"))
    assert counts[ids[0]] == 2 and counts[ids[1]] == 2
    assert KnowledgeEntry.objects.get(pk=ids[0]).last_used_at is not None
