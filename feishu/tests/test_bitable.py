"""Bitable work-order sync against the stub's sample TR table, through the real SDK."""

import time
from datetime import date

import pytest
from django.utils import timezone
from django.utils.translation import gettext

from dialogue.models import WorkOrderSuggestion
from feishu import sending
from feishu.bitable import remote
from feishu.bitable.pull import bitable_pull
from feishu.bitable.push import bitable_push
from feishu.bitable.services import bitable_sync_create
from feishu.bitable.suggestions import log_with_suggestion, suggestion_write_back
from feishu.models import BitableRecordLink, BitableSync, BitableSyncRun
from feishu.tasks import bitable_sync
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from workorders.models import WorkOrder, WorkOrderEvent
from workorders.services import workorder_create, workorder_update

pytestmark = pytest.mark.django_db

APP_TOKEN, TABLE = "bascnTR", "tblTR"


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(remote, "PAGE_SIZE", 10)


@pytest.fixture
def sync_a(app_a, stub, tenant_a):
    stub.state.fill_table(APP_TOKEN, TABLE, 25)
    with tenant_scope(tenant_a):
        yield bitable_sync_create(app=app_a, name="TR", app_token=APP_TOKEN, table_id=TABLE)


def record(stub, record_id="rec0000000003"):
    return stub.state.table(APP_TOKEN, TABLE).records[record_id]


def link_for(record_id="rec0000000003") -> BitableRecordLink:
    return BitableRecordLink.objects.select_related("work_order").get(record_id=record_id)


class TestPull:
    def test_every_page_becomes_work_orders(self, sync_a, stub):
        run = bitable_pull(sync=sync_a)
        assert (run.status, run.pages, run.created, run.failed) == ("done", 3, 25, 0)
        link = link_for()
        row = record(stub)["fields"]
        order = link.work_order
        assert link.external_number == "TR-00004"
        assert order.description == row["TR Description"][0]["text"]
        assert order.category == row["Type of problem"]
        assert (
            order.priority
            == {"P0": "urgent", "P1": "high", "P2": "medium", "P3": "low"}[row["TR Level"]]
        )
        status_map = {"待处理": "open", "处理中": "in_progress", "已解决": "resolved"}
        assert order.status == status_map.get(row["TR Status"], "closed")
        assert order.source == WorkOrder.Source.FEISHU
        assert order.extra["external_number"] == "TR-00004"
        assert order.extra["created_at"].startswith("20")
        assert order.requester_name == row["Created by"][0]["name"]
        # A column nobody mapped is kept.
        assert "最后更新时间" in order.extra["bitable"]

    def test_running_it_again_changes_nothing(self, sync_a):
        bitable_pull(sync=sync_a)
        events = WorkOrderEvent.objects.count()
        again = bitable_pull(sync=sync_a)
        assert (again.created, again.updated, again.skipped, again.full) == (0, 0, 25, False)
        assert WorkOrder.objects.count() == 25
        assert WorkOrderEvent.objects.count() == events

    def test_a_changed_row_is_updated(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        stub.state.write_record(APP_TOKEN, TABLE, "rec0000000003", {"TR Status": "已关闭"})
        run = bitable_pull(sync=sync_a)
        assert (run.updated, run.skipped) == (1, 24)
        assert link_for().work_order.status == "closed"

    def test_a_bad_row_fails_alone_with_its_reason(self, app_a, stub, tenant_a):
        stub.state.fill_table(APP_TOKEN, TABLE, 5)
        stub.state.write_record(APP_TOKEN, TABLE, "rec0000000001", {"TR Status": "火星"})
        with tenant_scope(tenant_a):
            sync = bitable_sync_create(app=app_a, name="TR", app_token=APP_TOKEN, table_id=TABLE)
            run = bitable_pull(sync=sync)
            assert (run.created, run.failed) == (4, 1)
            [problem] = run.problems
            assert problem["record_id"] == "rec0000000001" and "火星" in problem["reason"]

    def test_refused_without_the_bitable_permission(self, app_a, stub, tenant_a):
        stub.state.apps["cli_a"].scopes.discard("bitable:app")
        stub.state.fill_table(APP_TOKEN, TABLE, 3)
        with tenant_scope(tenant_a):
            sync = bitable_sync_create(app=app_a, name="TR", app_token=APP_TOKEN, table_id=TABLE)
            run = bitable_pull(sync=sync)
            assert run.status == BitableSyncRun.Status.REFUSED
            assert "bitable:app" in run.message
            assert not WorkOrder.objects.exists()

    def test_tenant_b_sees_none_of_it(self, sync_a, tenant_b):
        bitable_pull(sync=sync_a)
        with tenant_scope(tenant_b):
            assert not WorkOrder.objects.exists()
            assert not BitableRecordLink.objects.exists()
            assert not BitableSyncRun.objects.exists()


class TestPushAndConflicts:
    def test_a_local_change_is_written_back(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        workorder_update(work_order=link_for().work_order, actor=None, category="远程控制失效")
        run = bitable_push(sync=sync_a)
        assert (run.updated, run.skipped) == (1, 24)
        assert record(stub)["fields"]["Type of problem"] == "远程控制失效"
        assert bitable_pull(sync=sync_a).updated == 0  # our own write is not pulled back

    def test_a_sync_run_lists_the_permissions_once(self, sync_a, stub, monkeypatch):
        bitable_pull(sync=sync_a)
        workorder_update(work_order=link_for().work_order, actor=None, category="远程控制失效")
        listed = []
        granted_scopes = sending.granted_scopes
        monkeypatch.setattr(
            sending, "granted_scopes", lambda app: listed.append(app.app_id) or granted_scopes(app)
        )
        result = bitable_sync.enqueue(tenant_id=sync_a.tenant_id, sync_id=sync_a.pk)
        assert result.return_value == {"pull": "done", "push": "done"}
        assert listed == ["cli_a"]
        assert record(stub)["fields"]["Type of problem"] == "远程控制失效"

    def test_a_permission_gone_after_the_pull_refuses_the_push(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        workorder_update(work_order=link_for().work_order, actor=None, category="远程控制失效")
        stub.state.apps["cli_a"].scopes.discard("bitable:app")
        run = bitable_push(sync=sync_a, permission_checked=True)
        assert run.status == BitableSyncRun.Status.REFUSED
        assert "bitable:app" in run.message
        assert record(stub)["fields"]["Type of problem"] != "远程控制失效"

    def test_when_the_table_changed_later_the_local_change_waits(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        order = link_for().work_order
        workorder_update(work_order=order, actor=None, category="本地修改")
        time.sleep(0.01)  # the table's edit comes later (times are compared to the millisecond)
        stub.state.write_record(APP_TOKEN, TABLE, "rec0000000003", {"Type of problem": "表格修改"})
        assert bitable_push(sync=sync_a).skipped == 25
        assert record(stub)["fields"]["Type of problem"] == "表格修改"
        bitable_pull(sync=sync_a)
        order.refresh_from_db()
        assert order.category == "表格修改"
        notes = WorkOrderEvent.objects.filter(work_order=order, kind="comment")
        assert any("本地修改" in str(note.after) for note in notes)

    def test_when_the_local_change_is_newer_the_pull_keeps_it(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        stub.state.write_record(APP_TOKEN, TABLE, "rec0000000003", {"Type of problem": "表格修改"})
        order = link_for().work_order
        time.sleep(0.01)  # the local edit comes later
        workorder_update(work_order=order, actor=None, category="本地更新")
        run = bitable_pull(sync=sync_a)
        assert run.skipped == 25
        assert run.problems[0]["reason"] == gettext("conflict: the local change is newer")
        order.refresh_from_db()
        assert order.category == "本地更新"
        bitable_push(sync=sync_a)
        assert record(stub)["fields"]["Type of problem"] == "本地更新"


class TestSuggestions:
    def test_the_log_format(self):
        day = date(2026, 3, 5)
        first = log_with_suggestion("", "进站抓取日志", day)
        assert first == "0305：进站抓取日志"
        second = log_with_suggestion(first, "升级到 2.1", day)
        assert second.splitlines() == ["0305-2：升级到 2.1", "0305：进站抓取日志"]
        third = log_with_suggestion(second, "更换模块", day)
        assert third.splitlines()[0] == "0305-3：更换模块"
        older = "0304-2：b\n0304：a"
        assert log_with_suggestion(older, "新建议\n第二行", day).splitlines() == [
            "0305：新建议 第二行",
            "0304-2：b",
            "0304：a",
        ]
        assert log_with_suggestion("0305-4：x\n0305：y", "z", day).startswith("0305-5：z")

    def test_written_newest_first_to_the_row(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        order = link_for().work_order
        day = date(2026, 3, 5)
        suggestion_write_back(work_order=order, text="进站抓取日志", today=day)
        run = suggestion_write_back(work_order=order, text="OTA 升级", today=day)
        assert run.status == "done"
        assert record(stub)["fields"]["AI建议"] == "0305-2：OTA 升级\n0305：进站抓取日志"
        assert bitable_pull(sync=sync_a).updated == 0

    def test_a_new_suggestion_for_a_linked_order_is_written_once_committed(
        self, sync_a, stub, django_capture_on_commit_callbacks
    ):
        bitable_pull(sync=sync_a)
        order = link_for().work_order
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            suggestion = WorkOrderSuggestion.objects.create(
                work_order=order, content="进站抓取日志"
            )
        assert len(callbacks) == 1
        today = timezone.localdate().strftime("%m%d")
        assert record(stub)["fields"]["AI建议"] == f"{today}：进站抓取日志"
        assert BitableSyncRun.objects.get(kind="suggestion").status == "done"
        # Changing the suggestion (its review) writes nothing more.
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            suggestion.status = "approved"
            suggestion.save()
        assert callbacks == []

    def test_no_write_back_for_unlinked_orders_or_syncs_that_do_not_write(
        self, sync_a, stub, django_capture_on_commit_callbacks
    ):
        bitable_pull(sync=sync_a)
        unlinked = workorder_create(title="本地工单", description="")
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            WorkOrderSuggestion.objects.create(work_order=unlinked, content="建议")
        assert callbacks == []
        BitableSync.objects.filter(pk=sync_a.pk).update(push_enabled=False)
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            WorkOrderSuggestion.objects.create(work_order=link_for().work_order, content="建议")
        assert callbacks == []
        assert "AI建议" not in record(stub)["fields"]
        assert not BitableSyncRun.objects.filter(kind="suggestion").exists()

    def test_a_failure_is_recorded_here_and_nothing_is_written(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        order = link_for().work_order
        get_config().set("feishu.max_attempts", 1)
        stub.state.queue_faults("server_error", "server_error", "server_error")
        run = suggestion_write_back(work_order=order, text="建议")
        assert run.status == "failed"
        assert "AI建议" not in record(stub)["fields"]
        assert WorkOrderEvent.objects.filter(work_order=order, body__contains="AI").exists()

    def test_an_empty_suggestion_is_never_written(self, sync_a, stub):
        bitable_pull(sync=sync_a)
        run = suggestion_write_back(work_order=link_for().work_order, text="  ")
        assert run.status == "failed"
        assert "AI建议" not in record(stub)["fields"]
