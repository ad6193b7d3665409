"""The shipped lexicon and glossary, general synonyms and similar questions in lexical search."""

import pytest

from accounts.services import tenant_create
from helpdesk.tenancy import tenant_scope
from knowledge import general_synonyms, services, vocabulary
from knowledge.lexicon import shipped_vocabulary
from knowledge.lexicon.domain import SYNONYMS
from knowledge.lexicon.glossary import GLOSSARY
from knowledge.models import CustomWord, SynonymGroup
from knowledge.search import search
from knowledge.search_mode import LEXICAL_ONLY, SearchMode
from knowledge.similar_questions import similar_questions_add
from knowledge.text import normalise


def test_no_term_is_in_two_groups_and_every_glossary_term_is_mapped():
    seen: dict[str, str] = {}
    for group in SYNONYMS:
        for term in group:
            assert normalise(term) not in seen, term
            seen[normalise(term)] = group[0]
    _words, groups = shipped_vocabulary()
    mapped = {normalise(term) for group in groups for term in group}
    assert all(normalise(term) in mapped for group in GLOSSARY for term in group)


def test_a_new_tenant_starts_with_the_lexicon_and_can_edit_it(db):
    tenant = tenant_create(name="新租户", slug="new-tenant")
    words, groups = shipped_vocabulary()
    with tenant_scope(tenant):
        assert CustomWord.objects.filter(shipped=True).count() == len(words)
        assert SynonymGroup.objects.filter(shipped=True).count() == len(groups)
        assert services.vocabulary_seed_shipped() == (0, 0)  # idempotent
        services.vocabulary_replace(words=["自定义词"], synonyms=[["退款", "退钱"]])
        assert list(CustomWord.objects.values_list("word", flat=True)) == ["自定义词"]


def test_glossary_matching_ignores_case_and_width(db):
    tenant = tenant_create(name="租户丙", slug="tenant-c")
    with tenant_scope(tenant):
        entry = services.entry_create(question="充电发票怎么开？", answer="在订单页开票。")
        segment = vocabulary.segmenter_for(tenant.pk).segment
        assert segment("INVOICE") == segment("ｉｎｖｏｉｃｅ") == segment("发票")
        for query in ("charging invoice", "Charging INVOICE", "ｃｈａｒｇｉｎｇ　ｉｎｖｏｉｃｅ"):
            assert search(query, mode=LEXICAL_ONLY)[0].entry == entry


def test_shipped_synonyms_find_what_plain_words_miss(db, tenant_a):
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="车险理赔需要哪些材料？", answer="驾驶证、行驶证。")
        assert not search("索赔要交啥", mode=LEXICAL_ONLY)
    fresh = tenant_create(name="租户丁", slug="tenant-d")
    with tenant_scope(fresh):
        entry = services.entry_create(question="车险理赔需要哪些材料？", answer="驾驶证、行驶证。")
        assert search("索赔要交啥", mode=LEXICAL_ONLY)[0].entry == entry


def test_general_synonyms_are_weaker_expansions(scope_a, tenant_a):
    assert "询问" in general_synonyms.synonyms("查询")
    entry = services.entry_create(question="如何询问维修价格？", answer="在App配件价格页。")
    plain = search("查询维修价格", mode=LEXICAL_ONLY)
    expanded = search("查询维修价格", mode=SearchMode(semantic=False, general_synonyms=True))
    exact = search("询问维修价格", mode=LEXICAL_ONLY)
    assert expanded[0].entry == entry
    assert plain[0].score < expanded[0].score < exact[0].score


def test_tenant_synonyms_win_over_general_ones(scope_a, tenant_a):
    services.vocabulary_replace(words=[], synonyms=[["查询", "查一下"]])
    segmenter = vocabulary.segmenter_for(tenant_a.pk)
    assert general_synonyms.expansions_for(["查询"], segmenter) == {}


def test_similar_questions_are_searched_like_the_question(scope_a):
    entry = services.entry_create(question="车辆对外放电怎么使用？", answer="插入放电枪。")
    other = services.entry_create(question="露营装备推荐", answer="帐篷和睡袋。")
    assert entry not in [h.entry for h in search("露营时车能给电器供电吗", mode=LEXICAL_ONLY)[:1]]
    similar_questions_add(entry=entry, texts=["露营时车能给电器供电吗"])
    hits = search("露营时车能给电器供电吗", mode=LEXICAL_ONLY)
    assert hits[0].entry == entry and hits[0].score > 0.9
    assert other in [h.entry for h in hits]


@pytest.mark.parametrize("query", ["OTA", "ota", "ＯＴＡ"])
def test_shipped_words_stay_whole(db, query):
    tenant = tenant_create(name="租户戊", slug="tenant-e")
    with tenant_scope(tenant):
        tokens = vocabulary.segmenter_for(tenant.pk).segment(f"{query}升级失败")
        assert "在线升级" in tokens and "ota" not in tokens
