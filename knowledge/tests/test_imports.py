"""Imports: tables and documents, background jobs, re-imports and bad files."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema, crafted_xlsx
from knowledge import importing
from knowledge.import_jobs import QUEUE_WINDOW
from knowledge.models import ImportJob, KnowledgeEntry
from knowledge.tests.conftest import make_docx, make_pdf, make_xlsx

URL = "/api/v1/knowledge/import/"
CSV = (
    '问题,答案,分类,标签\n如何开发票？,在订单页申请发票。,发票,"发票,报销"\n'
    "蓝牙连不上,重新配对。,蓝牙,\n"
)


def upload(client, name, content):
    return client.post(URL, {"file": SimpleUploadedFile(name, content)}, format="multipart")


def test_csv_import_and_reimport(client_a, tenant_a):
    response = upload(client_a, "faq.csv", CSV.encode("utf-8-sig"))
    assert response.status_code == 202, response.json()
    assert_matches_schema(response, "post", "/api/v1/knowledge/import/")
    job = response.json()["data"][0]
    response = client_a.get(f"/api/v1/knowledge/imports/{job['id']}/")
    assert_matches_schema(response, "get", "/api/v1/knowledge/imports/{id}/")
    result = response.json()["data"]
    assert result["status"] == "done" and result["created_count"] == 2 and result["progress"] == 100
    again = upload(client_a, "faq.csv", CSV.encode("utf-8")).json()["data"][0]
    again = client_a.get(f"/api/v1/knowledge/imports/{again['id']}/").json()["data"]
    assert again["created_count"] == 0 and again["skipped_count"] == 2
    with tenant_scope(tenant_a):
        entry = KnowledgeEntry.objects.get(question="如何开发票？")
        assert entry.tags == ["发票", "报销"] and entry.source == "import" and not entry.verified
        assert entry.source_document == "faq.csv" and entry.source_position == 2


def test_xlsx_import_with_english_headers(client_a, tenant_a):
    content = make_xlsx([["question", "answer", "category"], ["How to reset?", "Use SMS.", "账号"]])
    job = upload(client_a, "faq.xlsx", content).json()["data"][0]
    with tenant_scope(tenant_a):
        assert ImportJob.objects.get(pk=job["id"]).created_count == 1


def test_bad_row_fails_the_whole_file(client_a, tenant_a):
    content = "问题,答案\n好问题,好答案\n,缺问题\n坏行,\n".encode()
    job = upload(client_a, "bad.csv", content).json()["data"][0]
    result = client_a.get(f"/api/v1/knowledge/imports/{job['id']}/").json()["data"]
    assert result["status"] == "failed"
    assert {(e["row"], e["field"]) for e in result["errors"]} == {(3, "question"), (4, "answer")}
    with tenant_scope(tenant_a):
        assert not KnowledgeEntry.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("broken.xlsx", b"not a zip"),
        ("broken.docx", b"not a zip"),
        ("broken.pdf", b"%PDF-1.4 garbage"),
        ("nocolumns.csv", "名字,年龄\n张三,3\n".encode()),
        ("binary.txt", bytes(range(128, 256)) * 3),
        # A field longer than the csv module's limit (131072 characters).
        ("long.csv", ('问题,答案\n发票,"' + "x" * 140_000 + '"\n').encode()),
    ],
)
def test_unreadable_files_fail_cleanly(client_a, tenant_a, name, content):
    job = upload(client_a, name, content).json()["data"][0]
    result = client_a.get(f"/api/v1/knowledge/imports/{job['id']}/").json()["data"]
    assert result["status"] == "failed" and result["errors"][0]["field"] == "file"
    with tenant_scope(tenant_a):
        assert not KnowledgeEntry.objects.exists()


def test_upload_bad_input(client_a, tenant_a):
    for response in [
        client_a.post(URL, {}, format="multipart"),
        upload(client_a, "virus.exe", b"MZ"),
        upload(client_a, "empty.csv", b""),
    ]:
        assert response.status_code == 400
        assert_matches_schema(response, "post", "/api/v1/knowledge/import/")
    with tenant_scope(tenant_a):
        assert not ImportJob.objects.exists()


def test_a_refused_file_among_several_creates_no_job(client_a, tenant_a):
    """The second file unpacks past the limit: the first gets no job either."""
    get_config().set("imports.max_uncompressed_mb", 1)
    files = [
        SimpleUploadedFile("faq.csv", CSV.encode()),
        SimpleUploadedFile("bomb.xlsx", crafted_xlsx(cell_text="a" * 2 * 2**20)),
    ]
    response = client_a.post(URL, {"file": files}, format="multipart")
    assert response.status_code == 400
    assert "1 MB" in response.json()["error"]["fields"]["file"][0]
    with tenant_scope(tenant_a):
        assert not ImportJob.objects.exists()
    get_config().set("imports.queued_per_tenant", 1)
    assert upload(client_a, "faq.csv", CSV.encode()).status_code == 202


def test_a_stuck_job_stops_counting_against_the_queue_after_a_day(client_a, tenant_a):
    get_config().set("imports.queued_per_tenant", 1)
    with tenant_scope(tenant_a):
        stuck = ImportJob.objects.create(
            kind="qa", file_name="stuck.csv", file_sha256="0", content=b"x", status="running"
        )
    assert upload(client_a, "faq.csv", CSV.encode()).status_code == 429
    with tenant_scope(tenant_a):
        ImportJob.objects.filter(pk=stuck.pk).update(
            created_at=timezone.now() - QUEUE_WINDOW - timedelta(minutes=1)
        )
    assert upload(client_a, "faq.csv", CSV.encode()).status_code == 202


def test_documents_split_along_headings(client_a, tenant_a, settings):
    markdown = "# 充电指南\n\n## 充电枪拔不出\n先解锁车辆再拔枪。\n\n## 快充\n快充桩扫码开始。\n"
    docx = make_docx(
        [("heading", "保养"), ("text", "首保在 5000 公里。"), ("text", "预约在 App。")]
    )
    pdf = make_pdf(["Warranty", "1. Battery", "The battery warranty is 8 years."])
    long_text = "第一章 说明\n" + "".join(f"这是第{i}个很长的句子。" for i in range(200))
    for name, content in [
        ("guide.md", markdown.encode()),
        ("care.docx", docx),
        ("warranty.pdf", pdf),
        ("long.txt", long_text.encode()),
    ]:
        job = upload(client_a, name, content).json()["data"][0]
        result = client_a.get(f"/api/v1/knowledge/imports/{job['id']}/").json()["data"]
        assert result["status"] == "done", (name, result)
    with tenant_scope(tenant_a):
        entries = KnowledgeEntry.objects.filter(source="document")
        questions = set(entries.values_list("question", flat=True))
        assert "guide · 充电枪拔不出" in questions and "care · 保养" in questions
        assert "warranty · 1. Battery" in questions
        long_parts = entries.filter(source_document="long.txt").order_by("source_position")
        assert long_parts.count() >= 3
        assert all(len(e.answer) <= 800 for e in long_parts)
        assert entries.get(question="care · 保养").answer == "首保在 5000 公里。\n预约在 App。"
    # Re-import of a document: no duplicates.
    job = upload(client_a, "guide.md", markdown.encode()).json()["data"][0]
    result = client_a.get(f"/api/v1/knowledge/imports/{job['id']}/").json()["data"]
    assert result["created_count"] == 0 and result["skipped_count"] == 2


def test_other_tenant_cannot_see_jobs(client_a, client_b):
    job = upload(client_a, "faq.csv", CSV.encode()).json()["data"][0]
    assert client_b.get(f"/api/v1/knowledge/imports/{job['id']}/").status_code == 404
    assert client_b.get("/api/v1/knowledge/imports/").json()["data"] == []
    response = client_a.get("/api/v1/knowledge/imports/")
    assert_matches_schema(response, "get", "/api/v1/knowledge/imports/")
    assert [j["id"] for j in response.json()["data"]] == [job["id"]]


def test_split_long_respects_limit():
    pieces = importing._split_long("句子。" * 300 + "x" * 2000, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert "".join(pieces) == "句子。" * 300 + "x" * 2000
