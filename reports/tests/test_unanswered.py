"""The questions we could not answer: which count, how they are grouped, and that the fast
grouping gives what comparing every question with every group gives."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from helpdesk.tenancy import tenant_scope
from knowledge.text import weighted_cosine
from knowledge.vocabulary import segment
from reports.tests.conftest import at
from reports.unanswered import (
    GROUP_SIMILARITY,
    Question,
    group_questions,
    unanswered_groups,
)

pytestmark = pytest.mark.django_db

MORNING = at("2026-03-10 09:00")


def asked(make_session, tenant, minute: int, text: str, **answer) -> None:
    """A conversation at 09:00 + `minute`: the question and the assistant's answer."""
    moment = MORNING + timedelta(minutes=minute)
    handoff = answer.pop("handoff", False)
    make_session(
        tenant,
        moment,
        handoff_reason="keyword" if handoff else "",
        handed_off_at=moment + timedelta(seconds=30) if handoff else None,
        messages=[
            ("user", moment, {"content": text}),
            ("assistant", moment + timedelta(seconds=10), answer),
        ],
    )


def test_groups_by_similar_wording_most_frequent_first(tenant_a, tenant_b, make_session):
    asked(make_session, tenant_a, 1, "蓝牙连不上怎么办", low_confidence=True)
    asked(make_session, tenant_a, 2, "蓝牙一直连不上", thumbs_up=False)
    asked(make_session, tenant_a, 3, "我的车蓝牙连不上", handoff=True, low_confidence=True)
    asked(make_session, tenant_a, 4, "OTA 升级失败", low_confidence=True)
    asked(make_session, tenant_a, 5, "转人工", handoff=True)  # a request, not a question
    asked(make_session, tenant_a, 6, "雨刮不工作")  # answered well: not counted
    asked(make_session, tenant_b, 7, "蓝牙连不上", low_confidence=True)
    with tenant_scope(tenant_a):
        groups = unanswered_groups(MORNING, MORNING + timedelta(hours=1))
    assert [(g["question"], g["count"]) for g in groups] == [
        ("我的车蓝牙连不上", 3),
        ("OTA 升级失败", 1),
    ]
    bluetooth = groups[0]
    # The newest question names the group; one question can have several reasons.
    assert bluetooth["reasons"] == {"handoff": 1, "low_confidence": 2, "thumbs_down": 1}
    assert bluetooth["examples"] == ["蓝牙一直连不上", "蓝牙连不上怎么办"]
    assert bluetooth["last_at"] == MORNING + timedelta(minutes=3, seconds=30)


def test_a_low_confidence_answer_thumbed_down_counts_both_reasons(tenant_a, make_session):
    asked(make_session, tenant_a, 1, "蓝牙连不上怎么办", low_confidence=True, thumbs_up=False)
    asked(make_session, tenant_a, 2, "蓝牙一直连不上", low_confidence=True, thumbs_up=True)
    asked(make_session, tenant_a, 3, "我的车蓝牙连不上", thumbs_up=False)
    with tenant_scope(tenant_a):
        (group,) = unanswered_groups(MORNING, MORNING + timedelta(hours=1))
    assert group["count"] == 3
    assert group["reasons"] == {"handoff": 0, "low_confidence": 2, "thumbs_down": 2}


def reference_grouping(questions: list[Question]) -> list[list[int]]:
    """Every question compared with every group made so far; ties go to the older group."""
    groups: list[tuple[list[str], list[int]]] = []
    for question in questions:
        tokens = segment(question.text)
        if not tokens:
            continue
        scores = [weighted_cosine(tokens, first) for first, _members in groups]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i), default=None)
        if best is not None and scores[best] >= GROUP_SIMILARITY:
            groups[best][1].append(question.message_id)
        else:
            groups.append((tokens, [question.message_id]))
    return sorted((members for _tokens, members in groups), key=len, reverse=True)


def test_fast_grouping_matches_the_reference(scope_a):
    subjects = ["蓝牙", "车机", "OTA 升级", "导航", "空调", "钥匙", "雨刮", "中控屏"]
    problems = ["连不上", "黑屏", "失败", "没反应", "报错"]
    endings = ["", "怎么办", "是什么原因", "能修吗"]
    prefixes = ["", "我的车", "请问"]
    wordings = [
        p + s + q + e for s, q, e, p in itertools.product(subjects, problems, endings, prefixes)
    ]
    # 600 questions, newest first, most wordings asked several times.
    questions = [
        Question(
            message_id=n,
            text=wordings[(n * 37) % len(wordings)],
            at=MORNING - timedelta(minutes=n),
        )
        for n in range(600)
    ]
    groups = group_questions(questions)
    assert 10 < len(groups) < len(wordings)
    fast = sorted(([m.message_id for m in g.members] for g in groups), key=len, reverse=True)
    assert sorted(fast) == sorted(reference_grouping(questions))
