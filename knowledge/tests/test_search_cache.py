"""The search cache: same answers as a fresh search, and never stale after a change."""

import pytest

from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from knowledge import importing, services
from knowledge.search import search
from knowledge.search_cache import cached_search

QUESTION = "退款多久能到账"


def _summary(hits):
    return [(hit.entry.pk, hit.score, hit.snippet) for hit in hits]


def test_a_repeated_question_is_answered_from_the_cache(kb_a, scope_a, django_assert_num_queries):
    first = cached_search(QUESTION, limit=3)
    assert _summary(first) == _summary(search(QUESTION, limit=3))
    with django_assert_num_queries(1):
        again = cached_search(f"  {QUESTION} ", limit=3)
    assert _summary(again) == _summary(first)
    assert again[0].entry.answer == first[0].entry.answer


def test_an_edited_entry_is_read_again(kb_a, scope_a, agent_a, django_capture_on_commit_callbacks):
    best = cached_search(QUESTION, limit=3)[0].entry
    with django_capture_on_commit_callbacks(execute=True):
        services.entry_update(entry=best, actor=agent_a, answer="退款 3 个工作日内到账。")
    assert cached_search(QUESTION, limit=3)[0].entry.answer == "退款 3 个工作日内到账。"


def test_deactivated_entries_leave_the_results(
    kb_a, scope_a, agent_a, django_capture_on_commit_callbacks
):
    ids = [hit.entry.pk for hit in cached_search(QUESTION, limit=3)]
    with django_capture_on_commit_callbacks(execute=True):
        services.entries_deactivate(entry_ids=ids[:1], actor=agent_a)
    assert ids[0] not in [hit.entry.pk for hit in cached_search(QUESTION, limit=3)]


def test_verifying_changes_the_scores(kb_a, scope_a, agent_a, django_capture_on_commit_callbacks):
    entry = cached_search(QUESTION, limit=3)[0].entry
    with django_capture_on_commit_callbacks(execute=True):
        services.entry_unverify(entry=entry, actor=agent_a)
    assert _summary(cached_search(QUESTION, limit=3)) == _summary(search(QUESTION, limit=3))


def test_imported_entries_are_found_at_once(
    kb_a, scope_a, agent_a, django_capture_on_commit_callbacks
):
    query = "发票怎么开具"
    assert all("发票" not in hit.entry.question for hit in cached_search(query, limit=3))
    content = "问题,答案,分类\n发票怎么开具？,在订单页申请电子发票。,发票\n".encode()
    with django_capture_on_commit_callbacks(execute=True):
        job = importing.import_create(file_name="faq.csv", content=content, actor=agent_a)
        assert importing.import_run(job_id=job.pk) == "done"
    assert cached_search(query, limit=3)[0].entry.question == "发票怎么开具？"


def test_each_tenant_gets_its_own_results(kb_a, kb_b, tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        results_a = _summary(cached_search(QUESTION, limit=3))
    with tenant_scope(tenant_b):
        results_b = cached_search(QUESTION, limit=3)
        assert _summary(results_b) == _summary(search(QUESTION, limit=3))
    assert {hit.entry.tenant_id for hit in results_b} <= {tenant_b.pk}
    assert not {pk for pk, _s, _n in results_a} & {hit.entry.pk for hit in results_b}


@pytest.mark.usefixtures("kb_a")
def test_zero_seconds_turns_the_cache_off(scope_a, django_assert_max_num_queries):
    get_config().set("knowledge.search_cache_seconds", 0)
    cached_search(QUESTION, limit=3)
    with django_assert_max_num_queries(99) as captured:
        cached_search(QUESTION, limit=3)
    assert len(captured) > 1
