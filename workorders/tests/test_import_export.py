"""Import (XLSX/CSV, old Chinese columns, all or nothing) and export of the filtered list."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from conftest import api_client_for
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from workorders import importing
from workorders.models import WorkOrder, WorkOrderEvent

IMPORT = "/api/v1/workorders/import/"
TEMPLATE = "/api/v1/workorders/import/template/"
EXPORT = "/api/v1/workorders/export/"
pytestmark = pytest.mark.django_db

LEGACY_ROWS = [
    ["标题", "描述", "分类", "优先级", "状态", "解决方案", "满意度", "负责人", "工单来源渠道"],
    ["空调不制冷", "夏天空调出风不凉", "热管理", "高", "已解决", "补充冷媒", 5, "agent-a", "热线"],
    ["胎压报警", "", "底盘", "中", "待处理", "", None, "", ""],
    ["OTA 失败", "升级卡在 99%", "OTA", "紧急", "处理中", "", "", "", "App"],
]


def xlsx(rows, name="old.xlsx") -> SimpleUploadedFile:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def csv_file(rows, name="old.csv", encoding="utf-8-sig") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding))


def stored(tenant) -> list[WorkOrder]:
    with tenant_scope(tenant):
        return list(WorkOrder.objects.select_related("assignee").order_by("number"))


def test_import_xlsx_with_old_chinese_columns(client_a, tenant_a, agent_a, tenant_b):
    response = client_a.post(IMPORT, {"file": xlsx(LEGACY_ROWS)}, format="multipart")
    assert response.status_code == 201, response.content
    assert_matches_schema(response, "post", IMPORT)
    assert response.json()["data"]["created"] == 3
    first, second, third = stored(tenant_a)
    assert (first.title, first.priority, first.status, first.satisfaction) == (
        "空调不制冷",
        "high",
        "resolved",
        5,
    )
    assert first.resolution == "补充冷媒" and first.resolved_at is not None
    assert first.assignee == agent_a and first.source == "import"
    assert first.extra == {"工单来源渠道": "热线"}
    assert (second.priority, second.status, second.assignee) == ("medium", "open", None)
    assert (third.priority, third.status) == ("urgent", "in_progress")
    with tenant_scope(tenant_a):
        event = WorkOrderEvent.objects.filter(work_order=first).get()
        assert event.kind == "created" and "old.xlsx" in event.body
    assert stored(tenant_b) == []


def test_import_gbk_csv_with_english_headers(client_a, tenant_a):
    rows = [["title", "priority", "status", "vin"], ["雨刮异响", "low", "closed", "lsv123"]]
    upload = csv_file(rows, encoding="gb18030")
    assert client_a.post(IMPORT, {"file": upload}, format="multipart").status_code == 201
    (work_order,) = stored(tenant_a)
    assert (work_order.status, work_order.vin) == ("closed", "LSV123")
    assert work_order.closed_at is not None


def test_bad_rows_import_nothing_and_are_all_reported(client_a, tenant_a, make_workorder, agent_b):
    make_workorder(tenant_a, title="已有")
    rows = [
        LEGACY_ROWS[0],
        ["好的行", "", "", "高", "待处理", "", "", "", ""],
        ["", "没有标题", "", "", "", "", "", "", ""],
        ["坏优先级", "", "", "很急", "挂单", "", "9", "agent-b", ""],
        ["x" * 201, "", "", "", "", "", "4.5", "", ""],
    ]
    response = client_a.post(IMPORT, {"file": xlsx(rows)}, format="multipart")
    assert response.status_code == 400
    assert_matches_schema(response, "post", IMPORT)
    error = response.json()["error"]
    assert "3" in error["message"]
    bad = error["fields"]["rows"]
    assert set(bad) == {"3", "4", "5"}
    assert "title" in bad["3"]
    assert set(bad["4"]) == {"priority", "status", "satisfaction", "assignee"}
    assert set(bad["5"]) == {"title", "satisfaction"}
    assert [w.title for w in stored(tenant_a)] == ["已有"]


@pytest.mark.parametrize(
    ("upload", "message_part"),
    [
        (SimpleUploadedFile("a.txt", b"hello"), ".xlsx"),
        (SimpleUploadedFile("a.xlsx", b"not a zip"), "XLSX"),
        (SimpleUploadedFile("a.csv", "描述\n只有描述\n".encode()), "标题"),
        (SimpleUploadedFile("a.csv", "标题\n".encode()), ""),
        (SimpleUploadedFile("a.csv", b"\xff\xfe\x00bad\x81\x00"), ""),
    ],
)
def test_unusable_files_are_400(client_a, tenant_a, upload, message_part):
    response = client_a.post(IMPORT, {"file": upload}, format="multipart")
    assert response.status_code == 400, response.content
    assert message_part in response.json()["error"]["message"]
    assert stored(tenant_a) == []


def test_import_needs_a_file_and_respects_the_row_limit(client_a, tenant_a):
    assert client_a.post(IMPORT, {}, format="multipart").status_code == 400
    get_config().set("workorders.import_max_rows", 2)
    rows = [["标题"], ["一"], ["二"], ["三"]]
    response = client_a.post(IMPORT, {"file": csv_file(rows)}, format="multipart")
    assert response.status_code == 400
    endless_empty = [["标题"], ["一"]] + [[""]] * (2 + importing.MAX_EMPTY_ROWS)
    response = client_a.post(IMPORT, {"file": csv_file(endless_empty)}, format="multipart")
    assert response.status_code == 400
    assert (
        "empty" in response.json()["error"]["message"]
        or "空" in response.json()["error"]["message"]
    )
    assert stored(tenant_a) == []


def test_viewers_cannot_import(viewer_a, tenant_a):
    client = api_client_for(viewer_a)
    response = client.post(IMPORT, {"file": xlsx(LEGACY_ROWS)}, format="multipart")
    assert response.status_code == 403
    assert stored(tenant_a) == []


def test_template_downloads(client_a):
    xlsx_response = client_a.get(TEMPLATE)
    assert xlsx_response.status_code == 200
    assert xlsx_response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).active
    assert [c.value for c in sheet[1]][:7] == [
        "标题",
        "描述",
        "分类",
        "优先级",
        "状态",
        "解决方案",
        "满意度",
    ]
    csv_response = client_a.get(TEMPLATE, {"file_format": "csv"})
    assert csv_response.content.decode("utf-8-sig").startswith("标题,描述")
    assert client_a.get(TEMPLATE, {"file_format": "pdf"}).status_code == 400


def test_export_filtered_csv_and_xlsx_round_trip(client_a, make_workorder, tenant_a, tenant_b):
    make_workorder(tenant_a, title='=HYPERLINK("http://evil")', priority="high")
    make_workorder(tenant_a, title="低优先级", priority="low")
    make_workorder(tenant_b, title="乙的")
    response = client_a.get(EXPORT, {"priority": "high", "file_format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["工单号", "标题", "描述"]
    assert len(rows) == 2 and rows[1][1].startswith("'=")
    assert rows[1][4] == "高"

    response = client_a.get(EXPORT, {"file_format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    exported = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(exported) == 3 and "乙的" not in str(exported)

    # An exported file imports again (the headers and values are the import format).
    upload = SimpleUploadedFile("again.xlsx", response.content)
    assert client_a.post(IMPORT, {"file": upload}, format="multipart").status_code == 201
    assert {w.priority for w in stored(tenant_a)} == {"high", "low"}
    assert len(stored(tenant_a)) == 4


def test_export_rejects_bad_filters_and_too_many_rows(client_a, make_workorder, tenant_a):
    assert client_a.get(EXPORT, {"status": "nope"}).status_code == 400
    assert client_a.get(EXPORT, {"file_format": "doc"}).status_code == 400
    make_workorder(tenant_a)
    make_workorder(tenant_a)
    get_config().set("workorders.export_max_rows", 1)
    response = client_a.get(EXPORT)
    assert response.status_code == 400 and response.json()["success"] is False


def test_reported_row_numbers_are_the_files_rows(client_a, tenant_a):
    rows = [["标题", "优先级"], ["好", "高"], [None, None], ["坏", "很急"]]
    response = client_a.post(IMPORT, {"file": xlsx(rows)}, format="multipart")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]["rows"]) == {"4"}
    assert stored(tenant_a) == []
