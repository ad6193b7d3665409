"""Follow-up questions, optional LLM re-ranking and the fused score."""

import pytest
from asgiref.sync import async_to_sync

from helpdesk.config import get_config
from knowledge import services
from knowledge.followup import followup_of, is_followup, standalone_question
from knowledge.fusion import candidate_features, fused_ranking, probability
from knowledge.rerank import parse_order, rerank
from knowledge.search import search
from knowledge.search_mode import SearchMode
from llm.models import LLMCall
from llm.recording import ORM_RECORDER
from llm.settings import LLMSettings
from llmstub import StubLLMServer

TURNS = [
    ("user", "家用充电桩怎么申请安装？"),
    ("assistant", "在App提交申请，安装商会上门勘测。"),
]


@pytest.fixture(scope="module")
def llm_server():
    with StubLLMServer(tokens=12) as server:
        yield server


@pytest.fixture
def llm_config(llm_server):
    get_config().update(
        {"llm.base_url": llm_server.base_url, "llm.model": "stub", "llm.max_retries": 0}
    )
    return llm_server


@pytest.mark.parametrize(
    ("question", "followup"),
    [
        ("那要多久？", True),
        ("还是不行", True),
        ("多少钱", True),
        ("and the price?", True),
        ("车险到期如何续保？", False),
        ("冬天充电速度变慢正常吗？", False),
    ],
)
def test_follow_ups_are_told_apart(scope_a, question, followup):
    assert is_followup(question) is followup


def test_a_follow_up_is_searched_with_the_previous_question(scope_a):
    entry = services.entry_create(question="家用充电桩如何申请安装？", answer="约7天完成安装。")
    services.entry_create(question="充电多久能充满？", answer="快充半小时。")
    followup = followup_of("那要多久？", TURNS)
    assert followup.joined == "家用充电桩怎么申请安装？ 那要多久？"
    assert search(followup.joined)[0].entry == entry
    assert followup_of("车险到期如何续保？", TURNS) is None
    assert followup_of("那要多久？", []) is None
    dicts = [{"role": r, "content": c} for r, c in TURNS]
    assert followup_of("还是不行", dicts).joined.startswith("家用充电桩")


def rewritten(question: str) -> str:
    return async_to_sync(standalone_question)(
        followup_of(question, TURNS), settings=LLMSettings.load(), recorder=ORM_RECORDER
    )


def test_the_llm_rewrite_is_a_recorded_llm_call(scope_a, llm_config):
    query = rewritten("那要多久？")
    call = LLMCall.objects.get()
    assert call.outcome == "ok" and call.prompt_tokens > 0 and call.purpose == "query_rewrite"
    # The stub's answer quotes the request, which holds the conversation.
    assert query.startswith("Stub answer") and "家用充电桩" in query


def test_the_llm_rewrite_falls_back_to_the_joined_turns(scope_a, llm_config):
    llm_config.queue_faults("500")
    assert rewritten("那要多久？") == "家用充电桩怎么申请安装？ 那要多久？"
    assert LLMCall.objects.get().outcome == "error"


def test_parse_order():
    assert parse_order("[3] [1]", 4) == [2, 0]
    assert parse_order("[2, 1, 9]", 3) == [1, 0]
    assert parse_order("none of them", 3) == []


def test_rerank_keeps_the_confidence_order_and_records_the_call(scope_a, llm_config):
    first = services.entry_create(question="如何购买车险？", answer="保险页。")
    second = services.entry_create(question="车险到期如何续保？", answer="续保页。")
    scored = [(first, 0.8), (second, 0.6)]
    # The stub cites the bracketed numbers in the order it sees them: [1] then [2].
    assert rerank("车险", scored, limit=2) == scored
    assert LLMCall.objects.count() == 1
    hits = search("车险", mode=SearchMode(semantic=False, rerank=True))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert LLMCall.objects.count() == 2


def test_rerank_without_an_llm_changes_nothing(scope_a):
    entry = services.entry_create(question="如何购买车险？", answer="保险页。")
    assert rerank("车险", [(entry, 0.5), (entry, 0.4)], limit=2) == [(entry, 0.5), (entry, 0.4)]


def test_fused_scores_are_probabilities_that_grow_with_the_evidence():
    lexical = {1: 0.9, 2: 0.5, 3: 0.0}
    cosines = {1: 0.93, 2: 0.93, 3: 0.80}
    hybrid = fused_ranking(lexical, cosines, "车险续保")
    assert [entry_id for entry_id, _p in hybrid] == [1, 2, 3]
    assert all(0.0 <= p <= 1.0 for _id, p in hybrid)
    assert hybrid[0][1] > hybrid[1][1] > hybrid[2][1]
    alone = fused_ranking(lexical, None, "车险续保")
    assert [entry_id for entry_id, _p in alone] == [1, 2, 3]

    def best(cosine: float) -> float:
        return fused_ranking({1: 0.9}, {1: cosine}, "x")[0][1]

    assert best(0.95) > best(0.85)


def test_the_ranking_model_orders_and_the_hybrid_model_scores():
    """A candidate the ranking puts first keeps its own calibrated score; one below it
    never shows a higher score than it."""
    lexical = {1: 0.2, 2: 1.0}
    cosines = {1: 0.95, 2: 0.84}
    ranking = fused_ranking(lexical, cosines, "充电桩安装")
    scores = dict(ranking)
    assert scores[ranking[0][0]] >= scores[ranking[1][0]]
    weights = get_config().get("knowledge.fusion")
    features = candidate_features(lexical, cosines, "充电桩安装")
    top = ranking[0][0]
    assert ranking[0][1] == probability(features[top], weights["hybrid"])
    by_ranking_model = max(features, key=lambda i: probability(features[i], weights["ranking"]))
    assert top == by_ranking_model


def test_verified_entries_win_a_tie(scope_a):
    assert [i for i, _p in fused_ranking({1: 0.8, 2: 0.8}, None, "x", verified={2})] == [2, 1]
