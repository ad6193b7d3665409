"""Usage selectors and GET /api/v1/llm/usage/ with two tenants."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from llm.models import LLMCall
from llm.selectors import usage_totals

URL = "/api/v1/llm/usage/"
PATH = "/api/v1/llm/usage/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY1 = datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI)
# 00:30 local on the 21st is still the 20th in UTC: days are counted in local time.
DAY2 = datetime(2026, 11, 21, 0, 30, tzinfo=SHANGHAI)


def make_call(**fields) -> LLMCall:
    values = {
        "purpose": "chat",
        "model": "qwen-plus",
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "cost": Decimal("0.010000"),
        "latency_ms": 500,
        "first_token_ms": 100,
        "outcome": "ok",
        "created_at": DAY1,
    }
    values.update(fields)
    return LLMCall.objects.create(**values)


@pytest.fixture
def calls(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        for latency in range(1, 21):
            make_call(latency_ms=latency * 100, first_token_ms=latency * 10)
        make_call(outcome="error", error_type="timeout", latency_ms=99_000, first_token_ms=None)
        make_call(outcome="cancelled", latency_ms=50, created_at=DAY2)
        make_call(purpose="suggestion", model="deepseek-chat", created_at=DAY2, cost=Decimal(1))
    with tenant_scope(tenant_b):
        make_call(model="tenant-b-model", latency_ms=7, created_at=DAY2)


def test_totals_and_p95_of_successful_calls(calls, scope_a):
    totals = usage_totals(LLMCall.objects.all())

    assert totals["calls"] == 23
    assert (totals["errors"], totals["cancelled"]) == (1, 1)
    assert totals["error_rate"] == pytest.approx(1 / 22)
    assert totals["prompt_tokens"] == 2300 and totals["total_tokens"] == 2300 + 460
    assert totals["cost"] == Decimal("1.220000")
    # 21 successful calls: 100..2000 ms and one of 500 ms; the 20th of 21 sorted values.
    assert totals["latency_p95_ms"] == 1900
    assert totals["first_token_p95_ms"] == 190


def test_empty_window_has_no_rates(scope_a):
    totals = usage_totals(LLMCall.objects.all())

    assert totals["calls"] == 0 and totals["cost"] == 0
    assert totals["error_rate"] is None and totals["latency_p95_ms"] is None


def test_usage_by_day_counts_local_days_and_fills_gaps(calls, client_a):
    response = client_a.get(URL, {"since": "2026-11-19", "until": "2026-11-21"})

    assert response.status_code == 200, response.content
    assert_matches_schema(response, "get", PATH)
    data = response.json()["data"]
    assert data["group_by"] == "day"
    assert [g["key"] for g in data["groups"]] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    assert [g["calls"] for g in data["groups"]] == [0, 21, 2]
    assert data["groups"][0]["error_rate"] is None
    assert data["groups"][1]["errors"] == 1
    assert data["totals"]["calls"] == 23
    assert data["totals"]["cost"] == "1.220000"


def test_usage_by_model_and_purpose(calls, client_a):
    by_model = client_a.get(URL, {"group_by": "model", "since": "2026-11-01"}).json()["data"]
    by_purpose = client_a.get(URL, {"group_by": "purpose", "since": "2026-11-01"}).json()["data"]

    assert {g["key"]: g["calls"] for g in by_model["groups"]} == {
        "deepseek-chat": 1,
        "qwen-plus": 22,
    }
    assert {g["key"]: g["cost"] for g in by_purpose["groups"]} == {
        "chat": "0.220000",
        "suggestion": "1.000000",
    }


def test_window_bounds_are_applied(calls, client_a):
    since = DAY2.isoformat()
    data = client_a.get(URL, {"group_by": "purpose", "since": since, "until": "2026-11-21"})
    assert data.json()["data"]["totals"]["calls"] == 2


def test_default_window_is_the_last_30_days(scope_a, client_a):
    now = timezone.now()
    make_call(created_at=now - timedelta(minutes=1))
    make_call(created_at=now - timedelta(days=29))
    make_call(created_at=now - timedelta(days=31))

    data = client_a.get(URL).json()["data"]

    assert data["totals"]["calls"] == 2
    assert len(data["groups"]) == 30
    assert data["groups"][-1]["key"] == timezone.localdate().isoformat()


def test_other_tenant_sees_only_its_own_usage(calls, client_b):
    data = client_b.get(URL, {"group_by": "model", "since": "2026-11-01"}).json()["data"]

    assert [g["key"] for g in data["groups"]] == ["tenant-b-model"]
    assert data["totals"]["calls"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-11-21", "until": "2026-11-20"}, "since"),
        ({"since": "2024-01-01", "until": "2026-01-01"}, "since"),
    ],
)
def test_bad_parameters_are_400_with_the_field(client_a, params, field):
    response = client_a.get(URL, params)

    assert response.status_code == 400
    assert_matches_schema(response, "get", PATH)
    assert field in response.json()["error"]["fields"]


def test_needs_authentication(db):
    from rest_framework.test import APIClient

    response = APIClient().get(URL)

    assert response.status_code in (401, 403)
    assert_matches_schema(response, "get", PATH)


def test_viewers_may_read_usage(calls, viewer_a):
    from conftest import api_client_for

    response = api_client_for(viewer_a).get(URL, {"since": (DAY1 - timedelta(days=1)).date()})
    assert response.status_code == 200
