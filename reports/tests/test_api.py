"""GET /api/v1/reports/summary/ and /export/: two tenants, every role, the schema, bad input."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from conftest import api_client_for
from dialogue.tests.conftest import visitor_client
from helpdesk.testing import assert_matches_schema
from reports.counters import COUNTERS
from reports.tests.test_numbers import EXPECTED_A, history  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/reports/summary/"
EXPORT = "/api/v1/reports/export/"
PERIOD = {"start": "2026-03-10", "end": "2026-03-11"}


@pytest.mark.parametrize("role", ["admin_a", "agent_a", "viewer_a"])
def test_every_role_reads_its_tenant_summary(role, request, history):  # noqa: F811
    client = api_client_for(request.getfixturevalue(role))
    response = client.get(SUMMARY, PERIOD)
    assert response.status_code == 200, response.content
    assert_matches_schema(response, "get", SUMMARY)
    data = response.json()["data"]
    assert (data["tenant"], data["time_zone"]) == ("tenant-a", "Asia/Shanghai")
    assert (data["previous_start"], data["previous_end"]) == ("2026-03-08", "2026-03-09")
    assert list(data["counters"]) == [spec.name for spec in COUNTERS]
    assert {name: c["value"] for name, c in data["counters"].items()} == EXPECTED_A
    assert data["counters"]["conversations"]["previous"] == 1
    assert data["counters"]["handoff_rate"]["unit"] == "ratio"


def test_tenant_b_gets_its_own_numbers(client_b, history):  # noqa: F811
    data = client_b.get(SUMMARY, PERIOD).json()["data"]
    assert data["tenant"] == "tenant-b"
    assert data["counters"]["conversations"]["value"] == 1
    assert data["counters"]["llm_tokens"]["value"] == 99999


def test_default_period_is_the_last_seven_days(client_a):
    data = client_a.get(SUMMARY).json()["data"]
    from datetime import date

    start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    assert (end - start).days == 6
    assert data["counters"]["conversations"]["value"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-03-11", "end": "2026-03-10"},
        {"start": "yesterday"},
        {"start": "2024-01-01", "end": "2026-03-10"},
        {"end": "2026-02-30"},
        {"end": "1277-07-12"},
        {"start": "3000-01-01", "end": "3000-01-02"},
        {"end": "0001-01-03"},  # the default start would be before year 1
        {"start": "0001-01-01"},
        {"end": "9999-12-31"},
    ],
)
@pytest.mark.parametrize("url", [SUMMARY, EXPORT])
def test_bad_periods_are_400(client_a, params, url):
    response = client_a.get(url, params)
    assert response.status_code == 400
    assert_matches_schema(response, "get", url)
    assert response.json()["error"]["fields"]


def test_anonymous_visitors_and_superusers_are_refused(tenant_a, superuser):
    assert APIClient().get(SUMMARY).status_code == 401
    assert visitor_client(tenant_a).get(SUMMARY).status_code in (401, 403)
    assert api_client_for(superuser).get(SUMMARY).status_code == 403


def test_export_workbook_has_a_sheet_per_section(client_a, client_b, history):  # noqa: F811
    response = client_a.get(EXPORT, PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 7
    for sheet in workbook.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][1:3] == ("租户甲", "tenant-a")
        assert rows[1][1:3] == ("2026-03-10", "2026-03-11")
    counters = {
        row[1]: row[2] for row in list(workbook.worksheets[0].iter_rows(values_only=True))[5:]
    }
    assert counters["conversations"] == 3 and counters["llm_tokens"] == 460
    other = load_workbook(io.BytesIO(client_b.get(EXPORT, PERIOD).content))
    other_counters = {
        row[1]: row[2] for row in list(other.worksheets[0].iter_rows(values_only=True))[5:]
    }
    assert other_counters["llm_tokens"] == 99999


def test_export_one_table_as_csv(client_a, history):  # noqa: F811
    response = client_a.get(EXPORT, {**PERIOD, "table": "unanswered"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][2] == "tenant-a"
    questions = [row[0] for row in rows[5:]]
    assert set(questions) == {"OTA 升级失败怎么办", "蓝牙连不上"}
    daily = client_a.get(EXPORT, {**PERIOD, "table": "daily"})
    days = list(csv.reader(io.StringIO(daily.content.decode("utf-8-sig"))))[5:]
    assert [(row[0], row[1]) for row in days] == [("2026-03-10", "2"), ("2026-03-11", "1")]


def test_export_unknown_table_is_400(client_a):
    response = client_a.get(EXPORT, {"table": "secrets"})
    assert response.status_code == 400
    assert_matches_schema(response, "get", EXPORT)
