"""Spreadsheet and document bombs are refused before parsing; imports are capped per tenant."""

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from helpdesk.config import get_config
from helpdesk.import_limits import import_slot
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema, crafted_xlsx
from knowledge.models import ImportJob

WORKORDER_IMPORT = "/api/v1/workorders/import/"
KNOWLEDGE_IMPORT = "/api/v1/knowledge/import/"


def post_workorders(client, data: bytes, name: str = "bomb.xlsx"):
    upload = SimpleUploadedFile(name, data)
    return client.post(WORKORDER_IMPORT, {"file": upload}, format="multipart")


def post_knowledge(client, data: bytes, name: str = "bomb.xlsx"):
    return client.post(
        KNOWLEDGE_IMPORT, {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )


@pytest.fixture
def one_mb_limit(db):
    get_config().set("imports.max_uncompressed_mb", 1)


def docx_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", "a" * size)
    return buffer.getvalue()


@pytest.mark.django_db
class TestRefusedBeforeParsing:
    def test_huge_cell_workorders(self, client_a, one_mb_limit):
        response = post_workorders(client_a, crafted_xlsx(cell_text="长" * 2**20))
        assert response.status_code == 400
        assert "1 MB" in response.json()["error"]["fields"]["file"][0]
        assert_matches_schema(response, "post", WORKORDER_IMPORT)

    def test_huge_cell_knowledge_upload(self, client_a, one_mb_limit):
        response = post_knowledge(client_a, crafted_xlsx(cell_text="a" * 2 * 2**20))
        assert response.status_code == 400
        assert ImportJob.all_tenants.count() == 0

    def test_docx_bomb_knowledge_upload(self, client_a, one_mb_limit):
        response = post_knowledge(client_a, docx_bomb(2 * 2**20), name="bomb.docx")
        assert response.status_code == 400

    def test_declared_millions_of_rows(self, client_a):
        data = crafted_xlsx(dimension="A1:A3000000")
        assert post_workorders(client_a, data).status_code == 400
        assert post_knowledge(client_a, data).status_code == 400

    def test_declared_columns_past_the_limit(self, client_a):
        get_config().set("imports.max_sheet_columns", 20)
        response = post_workorders(client_a, crafted_xlsx(dimension="A1:XFD2", rows=2))
        assert response.status_code == 400

    def test_undeclared_far_cell_is_not_padded_but_refused(self, client_a):
        get_config().set("imports.max_sheet_columns", 20)
        data = crafted_xlsx(dimension=None, rows=2, extra_cell="U3")
        response = post_workorders(client_a, data)
        assert response.status_code == 400
        assert "20" in response.json()["error"]["fields"]["file"][0]

    def test_a_lying_small_dimension_does_not_hide_rows(self, client_a, tenant_a):
        data = crafted_xlsx(cell_text="标题", dimension="A1:A1", rows=4)
        response = post_workorders(client_a, data, name="rows.xlsx")
        assert response.status_code == 201
        assert response.json()["data"]["created"] == 3


@pytest.mark.django_db
def test_a_tenant_runs_a_limited_number_of_imports_at_once(client_a, client_b, tenant_a):
    get_config().set("imports.concurrent_per_tenant", 1)
    data = crafted_xlsx(cell_text="标题", rows=2)
    with import_slot(tenant_a.pk):
        busy = post_workorders(client_a, data, name="a.xlsx")
        other_tenant = post_workorders(client_b, data, name="b.xlsx")
    assert busy.status_code == 429
    assert busy.json()["error"]["code"] == "imports_busy"
    assert_matches_schema(busy, "post", WORKORDER_IMPORT)
    assert other_tenant.status_code == 201
    assert post_workorders(client_a, data, name="a.xlsx").status_code == 201


@pytest.mark.django_db
def test_knowledge_queue_cap(client_a, client_b, tenant_a):
    get_config().set("imports.queued_per_tenant", 1)
    with tenant_scope(tenant_a):
        ImportJob.objects.create(kind="qa", file_name="waiting.csv", file_sha256="0", content=b"x")
    csv = "问题,答案\n发票,开具\n".encode()
    busy = post_knowledge(client_a, csv, name="qa.csv")
    assert busy.status_code == 429
    assert_matches_schema(busy, "post", KNOWLEDGE_IMPORT)
    assert post_knowledge(client_b, csv, name="qa.csv").status_code == 202


@pytest.mark.django_db
class TestUploadedFiles:
    def test_deleted_when_done_kept_when_failed(self, client_a, tenant_a):
        good = post_knowledge(client_a, "问题,答案\n发票,开具\n".encode(), name="qa.csv")
        bad = post_knowledge(client_a, "名字\n张三\n".encode(), name="bad.csv")
        with tenant_scope(tenant_a):
            done = ImportJob.objects.get(pk=good.json()["data"][0]["id"])
            failed = ImportJob.objects.get(pk=bad.json()["data"][0]["id"])
        assert (done.status, bytes(done.content)) == ("done", b"")
        assert failed.status == "failed" and bytes(failed.content)

    def test_prune_deletes_failed_files_after_the_retention(self, tenant_a, tenant_b):
        get_config().set("imports.failed_file_retention_days", 7)
        now = timezone.now()
        jobs = {}
        for tenant in (tenant_a, tenant_b):
            with tenant_scope(tenant):
                for name, age in (("old", 8), ("recent", 2)):
                    jobs[tenant.slug, name] = ImportJob.objects.create(
                        kind="qa",
                        file_name=f"{name}.csv",
                        file_sha256="0",
                        content=b"data",
                        status="failed",
                        finished_at=now - timedelta(days=age),
                    )
        out = io.StringIO()
        call_command("prune_import_files", stdout=out)
        assert "Deleted 2" in out.getvalue()
        left = {
            (job.tenant.slug, job.file_name): bytes(job.content)
            for job in ImportJob.all_tenants.select_related("tenant")
        }
        assert left == {
            ("tenant-a", "old.csv"): b"",
            ("tenant-a", "recent.csv"): b"data",
            ("tenant-b", "old.csv"): b"",
            ("tenant-b", "recent.csv"): b"data",
        }
        call_command("prune_import_files", "--days", "0", stdout=io.StringIO())
        assert not ImportJob.all_tenants.exclude(content=b"").exists()


@pytest.mark.django_db
def test_a_large_sheet_without_a_declared_size_is_refused(client_a):
    """openpyxl would parse such a sheet whole just to open the workbook."""
    data = crafted_xlsx(dimension=None, rows=200_000)
    response = post_workorders(client_a, data)
    assert response.status_code == 400
    assert "5 MB" in response.json()["error"]["fields"]["file"][0]
