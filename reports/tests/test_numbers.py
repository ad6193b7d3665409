"""The dashboard's numbers against hand-computed fixtures, for two tenants.

Tenant A, Asia/Shanghai, period 2026-03-10..11 (the previous period is 03-08..09):

conversations   s1 03-10 09:00  6 messages: answer citing [1] (thumbs up), low-confidence
                                answer (thumbs down), failed answer; rated 5
                s2 03-10 23:59  its answer at 03-11 00:01 cites [2]; handed off; rated 2
                s3 03-11 00:01  one message, no reply
                s4 03-09 12:00  previous period: one answer citing [1]
                s5 03-12 00:00:30  after the period (03-11 16:00:30 UTC)
LLM calls       03-10 23:59:59 150 tokens ¥0.01, 03-11 00:00:00 300 tokens ¥0.02,
                03-11 10:00 error 10 tokens; previous: 03-09 1000 tokens ¥0.50
work orders     w1 03-10 08:00 high: response 30 min, resolved 4 h, on time
                w2 03-10 09:00 urgent: response 2 h, resolved 24 h, after its due time
                w3 03-11 10:00 high: no response, open, due 03-11 14:00 (overdue)
                w4 03-09 (previous): response 10 min, resolved 1 h, on time
Tenant B has a conversation, a call and a work order in the same period: never counted for A.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from alerts.models import Alert
from helpdesk.tenancy import tenant_scope
from reports.counters import counters_with_previous
from reports.daily import daily_numbers_of
from reports.periods import period_of
from reports.selectors import period_report
from reports.tests.conftest import SHANGHAI, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(tenant_a, tenant_b, make_session, make_call, make_order):
    make_session(
        tenant_a,
        at("2026-03-10 09:00"),
        satisfaction=5,
        messages=[
            ("user", at("2026-03-10 09:00"), {"content": "车机黑屏怎么办"}),
            ("assistant", at("2026-03-10 09:01"), {"citations": [1], "thumbs_up": True}),
            ("user", at("2026-03-10 09:02"), {"content": "OTA 升级失败怎么办"}),
            ("assistant", at("2026-03-10 09:03"), {"low_confidence": True, "thumbs_up": False}),
            ("user", at("2026-03-10 09:04"), {}),
            ("assistant", at("2026-03-10 09:05"), {"error_type": "timeout"}),
        ],
    )
    make_session(
        tenant_a,
        at("2026-03-10 23:59"),
        satisfaction=2,
        handoff_reason="keyword",
        handed_off_at=at("2026-03-11 00:02"),
        messages=[
            ("user", at("2026-03-10 23:59"), {"content": "蓝牙连不上"}),
            ("assistant", at("2026-03-11 00:01"), {"citations": [2]}),
        ],
    )
    make_session(tenant_a, at("2026-03-11 00:01"), messages=[("user", at("2026-03-11 00:01"), {})])
    make_session(
        tenant_a,
        at("2026-03-09 12:00"),
        messages=[
            ("user", at("2026-03-09 12:00"), {}),
            ("assistant", at("2026-03-09 12:01"), {"citations": [1]}),
        ],
    )
    make_session(tenant_a, at("2026-03-12 00:00:30"), messages=[("user", at("2026-03-12"), {})])
    make_call(
        tenant_a,
        at("2026-03-10 23:59:59"),
        prompt_tokens=100,
        completion_tokens=50,
        cost=Decimal("0.01"),
    )
    make_call(
        tenant_a,
        at("2026-03-11 00:00:00"),
        model="deepseek-chat",
        purpose="suggestion",
        prompt_tokens=200,
        completion_tokens=100,
        cost=Decimal("0.02"),
    )
    make_call(
        tenant_a,
        at("2026-03-11 10:00"),
        outcome="error",
        error_type="timeout",
        prompt_tokens=10,
        cost=Decimal("0"),
    )
    make_call(tenant_a, at("2026-03-09 08:00"), prompt_tokens=1000, cost=Decimal("0.5"))
    make_order(
        tenant_a,
        at("2026-03-10 08:00"),
        priority="high",
        category="OTA",
        module="车机",
        first_response_at=at("2026-03-10 08:30"),
        resolved_at=at("2026-03-10 12:00"),
        due_at=at("2026-03-10 12:00"),
        status="resolved",
    )
    make_order(
        tenant_a,
        at("2026-03-10 09:00"),
        priority="urgent",
        category="OTA",
        module="T-BOX",
        first_response_at=at("2026-03-10 11:00"),
        resolved_at=at("2026-03-11 09:00"),
        due_at=at("2026-03-10 21:00"),
        status="resolved",
    )
    make_order(tenant_a, at("2026-03-11 10:00"), priority="high", due_at=at("2026-03-11 14:00"))
    make_order(
        tenant_a,
        at("2026-03-09 09:00"),
        first_response_at=at("2026-03-09 09:10"),
        resolved_at=at("2026-03-09 10:00"),
        due_at=at("2026-03-09 23:00"),
        status="resolved",
    )
    with tenant_scope(tenant_a):
        for moment, level in (
            (at("2026-03-10 10:00"), "warning"),
            (at("2026-03-11 23:59"), "error"),
        ):
            Alert.objects.create(
                source="manual", level=level, title="t", message="m", first_seen_at=moment
            )
    # Tenant B: the same kinds of rows in the same days.
    make_session(
        tenant_b,
        at("2026-03-10 12:00"),
        handoff_reason="keyword",
        handed_off_at=at("2026-03-10 12:01"),
        messages=[("user", at("2026-03-10 12:00"), {}), ("assistant", at("2026-03-10 12:01"), {})],
    )
    make_call(tenant_b, at("2026-03-10 12:00"), prompt_tokens=99999, cost=Decimal("9"))
    make_order(tenant_b, at("2026-03-10 12:00"), due_at=at("2026-03-10 13:00"))
    with tenant_scope(tenant_b):
        Alert.objects.create(
            source="manual",
            level="critical",
            title="b",
            message="b",
            first_seen_at=at("2026-03-10 10:00"),
        )


def period(start: str, end: str):
    from datetime import date

    return period_of(start=date.fromisoformat(start), end=date.fromisoformat(end), zone=SHANGHAI)


def values(table: dict, key: str = "value") -> dict:
    return {name: counter[key] for name, counter in table.items()}


EXPECTED_A = {
    "conversations": 3,
    "answered_without_handoff_rate": pytest.approx(1 / 3),
    "handoff_rate": pytest.approx(1 / 3),
    "knowledge_hit_rate": pytest.approx(2 / 3),
    "low_confidence_rate": pytest.approx(1 / 3),
    "satisfaction_avg": 3.5,
    "thumbs_up_rate": 0.5,
    "workorders_opened": 3,
    "workorders_resolved": 2,
    "workorders_overdue": 2,
    "first_response_median_seconds": 1800.0,
    "resolution_median_seconds": 14400.0,
    "llm_calls": 3,
    "llm_tokens": 460,
    "llm_cost": pytest.approx(0.03),
}
EXPECTED_A_PREVIOUS = {
    "conversations": 1,
    "answered_without_handoff_rate": 1.0,
    "handoff_rate": 0.0,
    "knowledge_hit_rate": 1.0,
    "low_confidence_rate": 0.0,
    "satisfaction_avg": None,
    "thumbs_up_rate": None,
    "workorders_opened": 1,
    "workorders_resolved": 1,
    "workorders_overdue": 0,
    "first_response_median_seconds": 600.0,
    "resolution_median_seconds": 3600.0,
    "llm_calls": 1,
    "llm_tokens": 1000,
    "llm_cost": pytest.approx(0.5),
}


def test_counters_of_tenant_a_match_the_hand_count(history, scope_a):
    table = counters_with_previous(period("2026-03-10", "2026-03-11"))
    assert values(table) == EXPECTED_A
    assert values(table, "previous") == EXPECTED_A_PREVIOUS
    assert table["conversations"]["delta"] == 2
    assert table["conversations"]["relative_change"] == 2.0
    assert table["satisfaction_avg"]["delta"] is None


def test_tenant_b_sees_only_its_own(history, scope_b):
    table = values(counters_with_previous(period("2026-03-10", "2026-03-11")))
    assert table["conversations"] == 1 and table["handoff_rate"] == 1.0
    assert table["llm_tokens"] == 99999 and table["workorders_opened"] == 1
    assert table["workorders_overdue"] == 1


def test_days_split_at_local_midnight(history, scope_a):
    (numbers,) = daily_numbers_of([period("2026-03-10", "2026-03-11")])
    from datetime import date

    tenth, eleventh = numbers.activity[date(2026, 3, 10)], numbers.activity[date(2026, 3, 11)]
    # s2 started at 23:59 on the 10th; its answer came at 00:01 on the 11th.
    assert (tenth["conversations"], tenth["handed_off"], tenth["answers"]) == (2, 1, 2)
    assert (eleventh["conversations"], eleventh["answers"], eleventh["knowledge_hits"]) == (1, 1, 1)
    by_day = {}
    for row in numbers.usage:
        by_day[row["day"]] = by_day.get(row["day"], 0) + row["calls"]
    assert by_day == {date(2026, 3, 10): 1, date(2026, 3, 11): 2}


def test_charts_and_sla(history, scope_a, tenant_a):
    report = period_report(tenant=tenant_a, period=period("2026-03-10", "2026-03-11"))
    charts = report.charts
    assert charts["days"] == ["2026-03-10", "2026-03-11"]
    assert charts["conversations"] == [2, 1] and charts["handoffs"] == [1, 0]
    assert charts["rating"] == [3.5, None] and charts["thumbs_up_rate"] == [0.5, None]
    status = {item["key"]: item["count"] for item in charts["workorders"]["status"]}
    assert status == {"resolved": 2, "open": 1}
    category = {item["key"]: item["count"] for item in charts["workorders"]["category"]}
    assert category == {"OTA": 2, "": 1}
    assert [(s["key"], s["due"], s["met"], s["rate"]) for s in charts["sla"]] == [
        ("high", 2, 1, 0.5),
        ("urgent", 1, 0, 0.0),
    ]
    by_model = {s["key"]: s["data"] for s in charts["cost_by_model"]}
    assert by_model == {"deepseek-chat": [0.0, 0.02], "qwen-plus": [0.01, 0.0]}
    by_purpose = {s["key"]: s["data"] for s in charts["cost_by_purpose"]}
    assert by_purpose == {"chat": [0.01, 0.0], "suggestion": [0.0, 0.02]}
    assert [(s["key"], s["data"]) for s in charts["alerts"]] == [
        ("warning", [1, 0]),
        ("error", [0, 1]),
    ]


def test_empty_period(history, scope_a):
    table = counters_with_previous(period("2026-01-01", "2026-01-07"))
    assert values(table)["conversations"] == 0
    assert values(table)["llm_cost"] == 0.0
    for name in (
        "handoff_rate",
        "knowledge_hit_rate",
        "satisfaction_avg",
        "resolution_median_seconds",
    ):
        assert table[name]["value"] is None and table[name]["delta"] is None


def test_another_time_zone_moves_the_day_edges(history, tenant_a):
    from zoneinfo import ZoneInfo

    tenant_a.time_zone = "UTC"
    tenant_a.save()
    with tenant_scope(tenant_a):
        utc = period_of(
            start=period("2026-03-10", "2026-03-11").start,
            end=period("2026-03-10", "2026-03-11").end,
            zone=ZoneInfo("UTC"),
        )
        table = values(counters_with_previous(utc))
    # In UTC, s5 (03-11 16:00:30 UTC) falls inside; s1..s3 still do.
    assert table["conversations"] == 4
