"""Admin pages: secrets masked and kept, check connection, Bitable mapping, two tenants."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feishu.bitable.mapping import DEFAULT_FIELD_MAPPING
from feishu.bitable.services import bitable_sync_create
from feishu.models import BitableSync, BitableSyncRun, FeishuApp, InboundEvent, OutboundMessage
from feishu.tests.conftest import make_app
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

APPS = reverse("admin:feishu_feishuapp_changelist")
APP_ADD = reverse("admin:feishu_feishuapp_add")
SYNC_ADD = reverse("admin:feishu_bitablesync_add")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(app) -> str:
    return reverse("admin:feishu_feishuapp_change", args=[app.pk])


def app_form(**fields) -> dict:
    data = {
        "name": "售后机器人",
        "app_id": "cli_new",
        "app_secret": "s3cret-value",
        "verification_token": "tok-value",
        "encrypt_key": "enc-value",
        "bot_open_id": "ou_bot",
        "domain": "feishu",
        "alert_chat_id": "",
        "is_active": "on",
    }
    data.update(fields)
    return data


def test_adding_an_app_stores_secrets_encrypted(admin_a, tenant_a):
    response = client_for(admin_a).post(APP_ADD, app_form())
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT app_secret, encrypt_key FROM feishu_feishuapp")
        stored = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in stored)
    assert "s3cret-value" not in "".join(stored)
    with tenant_scope(tenant_a):
        app = FeishuApp.objects.get()
        assert app.app_secret == "s3cret-value" and app.encrypt_key == "enc-value"
        assert "s3cret" not in repr(app.app_secret)


def test_the_change_page_never_shows_a_secret_and_empty_keeps_it(admin_a, app_a, tenant_a):
    client = client_for(admin_a)
    page = client.get(change_url(app_a)).content.decode()
    assert "secret-a" not in page and "encrypt-key-a" not in page
    assert "/feishu/cli_a/events/" in page
    data = app_form(app_id="cli_a", app_secret="", verification_token="", encrypt_key="")
    assert client.post(change_url(app_a), data).status_code == 302
    with tenant_scope(tenant_a):
        app = FeishuApp.objects.get()
        assert app.app_secret == "secret-a" and app.encrypt_key == "encrypt-key-a"
        assert app.name == "售后机器人"


def test_list_is_per_tenant_and_masked(admin_a, app_a, app_b):
    page = client_for(admin_a).get(APPS).content.decode()
    assert "cli_a" in page and "cli_b" not in page
    assert "secret-a" not in page and "••••••" in page


def test_agents_may_not_change_apps(agent_a, app_a):
    client = client_for(agent_a)
    assert client.post(APP_ADD, app_form()).status_code == 403


def test_another_tenants_app_is_not_found(admin_a, app_b):
    assert client_for(admin_a).get(change_url(app_b)).status_code in (302, 404)


def test_check_connection_reports_missing_permissions(admin_a, app_a, stub, tenant_a):
    stub.state.apps["cli_a"].scopes.discard("bitable:app")
    response = client_for(admin_a).post(
        APPS, {"action": "check_connection", "_selected_action": [app_a.pk]}, follow=True
    )
    assert "bitable:app" in response.content.decode()
    with tenant_scope(tenant_a):
        assert FeishuApp.objects.get().last_check["missing_scopes"] == ["bitable:app"]


def test_a_duplicate_app_id_is_refused_without_naming_the_owner(admin_a, app_b):
    response = client_for(admin_a).post(APP_ADD, app_form(app_id="cli_b"))
    assert response.status_code == 200
    assert "already connected" in response.content.decode() or "已" in response.content.decode()


class TestBitableSyncAdmin:
    def sync_form(self, app, **fields) -> dict:
        data = {
            "app": app.pk,
            "name": "TR 表",
            "app_token": "bascn1",
            "table_id": "tbl1",
            "field_mapping": json.dumps(DEFAULT_FIELD_MAPPING, ensure_ascii=False),
            "status_map": json.dumps({"待处理": "open"}, ensure_ascii=False),
            "priority_map": json.dumps({"P1": "high"}),
            "modified_time_column": "最后更新时间",
            "enabled": "on",
            "push_enabled": "on",
            "interval_minutes": "15",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
        }
        data.update(fields)
        return data

    def test_the_add_form_offers_the_old_columns_and_own_apps(self, admin_a, app_a, app_b):
        page = client_for(admin_a).get(SYNC_ADD).content.decode()
        assert "TR Description" in page and "AI建议" in page
        assert "cli_a" in page and "cli_b" not in page

    def test_a_mapping_with_an_unknown_field_is_refused(self, admin_a, app_a, tenant_a):
        mapping = json.dumps({"TR Number": "warp_drive"})
        response = client_for(admin_a).post(SYNC_ADD, self.sync_form(app_a, field_mapping=mapping))
        assert response.status_code == 200
        assert "warp_drive" in response.content.decode()
        with tenant_scope(tenant_a):
            assert not BitableSync.objects.exists()

    def test_an_edited_mapping_is_saved(self, admin_a, app_a, tenant_a):
        mapping = json.dumps({"编号": "external_number", "描述": "description"}, ensure_ascii=False)
        response = client_for(admin_a).post(SYNC_ADD, self.sync_form(app_a, field_mapping=mapping))
        assert response.status_code == 302
        with tenant_scope(tenant_a):
            assert BitableSync.objects.get().field_mapping == {
                "编号": "external_number",
                "描述": "description",
            }

    def test_a_second_sync_of_the_same_table_is_refused_on_the_form(
        self, admin_a, admin_b, app_a, app_b, tenant_a, tenant_b
    ):
        client = client_for(admin_a)
        assert client.post(SYNC_ADD, self.sync_form(app_a)).status_code == 302
        response = client.post(SYNC_ADD, self.sync_form(app_a, name="again"))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert list(errors) == ["table_id"]
        # Editing the one sync of the table is no duplicate of itself.
        with tenant_scope(tenant_a):
            sync = BitableSync.objects.get()
        change = reverse("admin:feishu_bitablesync_change", args=[sync.pk])
        assert client.post(change, self.sync_form(app_a, name="renamed")).status_code == 302
        # Another tenant may sync a table with the same ids.
        response = client_for(admin_b).post(SYNC_ADD, self.sync_form(app_b))
        assert response.status_code == 302
        with tenant_scope(tenant_a):
            assert list(BitableSync.objects.values_list("name", flat=True)) == ["renamed"]
        with tenant_scope(tenant_b):
            assert BitableSync.objects.count() == 1

    def test_sync_now_runs_the_sync(self, admin_a, app_a, stub, tenant_a):
        stub.state.fill_table("bascn1", "tbl1", 3)
        with tenant_scope(tenant_a):
            sync = bitable_sync_create(app=app_a, name="TR", app_token="bascn1", table_id="tbl1")
        changelist = reverse("admin:feishu_bitablesync_changelist")
        client_for(admin_a).post(changelist, {"action": "sync_now", "_selected_action": [sync.pk]})
        with tenant_scope(tenant_a):
            assert sync.runs.get(kind="pull").created == 3


def test_event_and_message_records_are_per_tenant_and_read_only(admin_a, app_a, app_b, tenant_b):
    with tenant_scope(tenant_b):
        InboundEvent.objects.create(app=app_b, kind="message", message_id="om_b_only", payload={})
        OutboundMessage.objects.create(
            app=app_b, purpose="notice", msg_type="text", content={}, chat_id="oc_b_only"
        )
    client = client_for(admin_a)
    events = client.get(reverse("admin:feishu_inboundevent_changelist")).content.decode()
    sent = client.get(reverse("admin:feishu_outboundmessage_changelist")).content.decode()
    assert "om_b_only" not in events and "oc_b_only" not in sent
    assert client.get(reverse("admin:feishu_inboundevent_add")).status_code == 403


def _rows(tenant, stub, prefix: str, n: int) -> None:
    """n apps, each with an event, a sent message, a sync and a sync run."""
    for i in range(n):
        app = make_app(tenant, stub, f"cli_{prefix}{i}")
        with tenant_scope(tenant):
            InboundEvent.objects.create(app=app, kind="message", message_id=f"om_{i}", payload={})
            OutboundMessage.objects.create(app=app, purpose="notice", msg_type="text", content={})
            sync = bitable_sync_create(
                app=app, name=f"{prefix}{i}", app_token="bascn", table_id=f"{prefix}{i}"
            )
            BitableSyncRun.objects.create(sync=sync, kind="pull")


@pytest.mark.parametrize(
    "model", ["inboundevent", "outboundmessage", "bitablesync", "bitablesyncrun"]
)
@pytest.mark.parametrize("user", ["admin_a", "superuser"])
def test_record_lists_take_as_many_queries_for_more_rows(request, tenant_a, stub, model, user):
    client = client_for(request.getfixturevalue(user))
    url = reverse(f"admin:feishu_{model}_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    _rows(tenant_a, stub, "few", 1)
    few = queries()
    _rows(tenant_a, stub, "more", 3)
    assert queries() == few
