"""/api/v1/knowledge/: every endpoint with two tenants and bad input."""

import pytest

from conftest import api_client_for
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from knowledge.models import KnowledgeEntry

URL = "/api/v1/knowledge/"


def data(response):
    return response.json()["data"]


def test_create_list_retrieve_update_delete(client_a, admin_a, tenant_a):
    response = client_a.post(
        URL,
        {
            "question": "如何申请退款？",
            "answer": "在订单页申请。",
            "category": "退款",
            "tags": ["退款"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert_matches_schema(response, "post", "/api/v1/knowledge/")
    entry_id = data(response)["id"]
    response = client_a.get(URL, {"category": "退款"})
    assert_matches_schema(response, "get", "/api/v1/knowledge/")
    assert [e["id"] for e in data(response)] == [entry_id]
    response = client_a.get(f"{URL}{entry_id}/")
    assert_matches_schema(response, "get", "/api/v1/knowledge/{id}/")
    response = client_a.patch(f"{URL}{entry_id}/", {"answer": "在 App 订单页申请。"}, format="json")
    assert response.status_code == 200 and data(response)["answer"] == "在 App 订单页申请。"
    assert client_a.delete(f"{URL}{entry_id}/").status_code == 403
    assert api_client_for(admin_a).delete(f"{URL}{entry_id}/").status_code == 204


@pytest.mark.parametrize(
    "payload",
    [
        {"question": "", "answer": "x"},
        {"question": "q"},
        {"question": "q", "answer": "a", "tags": "not-a-list"},
        {"question": "q" * 1001, "answer": "a"},
        {"question": "q", "answer": "a", "category": "c" * 65},
    ],
)
def test_create_bad_input(client_a, tenant_a, payload):
    response = client_a.post(URL, payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert_matches_schema(response, "post", "/api/v1/knowledge/")
    with tenant_scope(tenant_a):
        assert not KnowledgeEntry.objects.exists()


def test_editing_text_removes_verification(client_a, kb_a):
    entry = kb_a[0]
    response = client_a.patch(f"{URL}{entry.pk}/", {"category": "账号"}, format="json")
    assert data(response)["verified"] is True
    response = client_a.patch(f"{URL}{entry.pk}/", {"question": "登录不了"}, format="json")
    assert data(response)["verified"] is False


def test_other_tenant_gets_404(client_b, kb_a):
    entry = kb_a[0]
    for method, path in [
        ("get", f"{URL}{entry.pk}/"),
        ("patch", f"{URL}{entry.pk}/"),
        ("post", f"{URL}{entry.pk}/verify/"),
        ("post", f"{URL}{entry.pk}/unverify/"),
    ]:
        response = getattr(client_b, method)(path, {}, format="json")
        assert response.status_code == 404, path
    assert data(client_b.get(URL)) == []
    response = client_b.post(f"{URL}bulk-verify/", {"ids": [entry.pk]}, format="json")
    assert response.status_code == 400
    assert data(client_b.get(f"{URL}search/", {"q": "退款"})) == []


def test_viewer_reads_but_cannot_write(viewer_a, kb_a):
    client = api_client_for(viewer_a)
    assert client.get(URL).status_code == 200
    assert client.post(f"{URL}{kb_a[0].pk}/unverify/").status_code == 403


def test_search_endpoint(client_a, kb_a):
    response = client_a.get(f"{URL}search/", {"q": "退款多久能到账", "limit": 3})
    assert response.status_code == 200
    assert_matches_schema(response, "get", "/api/v1/knowledge/search/")
    hits = data(response)
    assert hits[0]["entry"]["question"] == "退款多久到账？"
    assert hits[0]["answers"] is True and 0 < hits[0]["score"] <= 1
    for query in ["", "-" * 33, "'\"&|!():*", "😀" * 100, "退" * 10000]:
        response = client_a.get(f"{URL}search/", {"q": query})
        assert response.status_code == 200, query


def test_search_bad_input(client_a, kb_a):
    for params in [{}, {"q": "x", "limit": 0}, {"q": "x", "limit": "many"}, {"q": "x" * 10001}]:
        response = client_a.get(f"{URL}search/", params)
        assert response.status_code == 400, params
        assert_matches_schema(response, "get", "/api/v1/knowledge/search/")


def test_verify_unverify_and_bulk(client_a, tenant_a, agent_a):
    ids = [
        data(client_a.post(URL, {"question": f"问题{i}", "answer": "答案"}, format="json"))["id"]
        for i in range(3)
    ]
    response = client_a.post(f"{URL}{ids[0]}/verify/")
    assert_matches_schema(response, "post", "/api/v1/knowledge/{id}/verify/")
    assert data(response)["verified"] is True and data(response)["verified_by"] == agent_a.pk
    assert data(client_a.post(f"{URL}{ids[0]}/unverify/"))["verified"] is False
    response = client_a.post(f"{URL}bulk-verify/", {"ids": ids}, format="json")
    assert_matches_schema(response, "post", "/api/v1/knowledge/bulk-verify/")
    assert data(response) == {"count": 3}
    # Unknown id: nothing changes.
    response = client_a.post(f"{URL}bulk-deactivate/", {"ids": [ids[0], 999999]}, format="json")
    assert response.status_code == 400
    with tenant_scope(tenant_a):
        assert KnowledgeEntry.objects.filter(is_active=True).count() == 3
    response = client_a.post(f"{URL}bulk-deactivate/", {"ids": ids[:2]}, format="json")
    assert data(response) == {"count": 2}
    assert client_a.post(f"{URL}bulk-verify/", {"ids": []}, format="json").status_code == 400
    # An id beyond any primary key is bad input, not a database error.
    response = client_a.post(f"{URL}bulk-verify/", {"ids": [10**30]}, format="json")
    assert response.status_code == 400
    assert_matches_schema(response, "post", "/api/v1/knowledge/bulk-verify/")


def test_stats(client_a, kb_a, kb_b, tenant_a):
    client_a.post(URL, {"question": "草稿", "answer": "草稿答案"}, format="json")
    with tenant_scope(tenant_a):
        from knowledge.services import entries_record_usage

        entries_record_usage(entry_ids=[kb_a[1].pk])
    response = client_a.get(f"{URL}stats/")
    assert_matches_schema(response, "get", "/api/v1/knowledge/stats/")
    stats = data(response)
    assert stats["total"] == 6 and stats["verified"] == 5 and stats["never_used"] == 5
    assert stats["most_used"][0]["id"] == kb_a[1].pk
    assert {c["category"]: c["count"] for c in stats["by_category"]}["退款"] == 2


def test_export_csv_and_xlsx(client_a, kb_a, kb_b):
    response = client_a.get(f"{URL}export/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    assert "如何申请退款？" in body and "租户乙" not in body
    response = client_a.get(f"{URL}export/", {"file_format": "xlsx", "category": "退款"})
    assert response.status_code == 200 and response.content[:2] == b"PK"
    response = client_a.get(f"{URL}export/", {"file_format": "pdf"})
    assert response.status_code == 400


def test_import_template(client_a):
    response = client_a.get(f"{URL}import-template/", {"file_format": "csv"})
    assert "问题,答案,分类,标签" in response.content.decode("utf-8-sig")
    assert client_a.get(f"{URL}import-template/", {"file_format": "xlsx"}).content[:2] == b"PK"


def _resolved_workorder(title, description, resolution, status="resolved"):
    from workorders.models import WorkOrder
    from workorders.services import workorder_create

    work_order = workorder_create(title=title, description=description)
    WorkOrder.objects.filter(pk=work_order.pk).update(status=status, resolution=resolution)
    return WorkOrder.objects.get(pk=work_order.pk)


def test_from_workorder(client_a, client_b, kb_a, tenant_a):
    with tenant_scope(tenant_a):
        done = _resolved_workorder("中控屏黑屏", "OTA 后黑屏", "长按音量键 10 秒重启车机。")
        duplicate = _resolved_workorder("如何申请退款？", "", "订单页申请。")
        open_one = _resolved_workorder("座椅加热不工作", "", "", status="open")
    response = client_b.post(f"{URL}from-workorder/", {"work_order": done.pk}, format="json")
    assert response.status_code == 400
    response = client_a.post(
        f"{URL}from-workorder/", {"work_order": done.pk, "verified": True}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert_matches_schema(response, "post", "/api/v1/knowledge/from-workorder/")
    entry = data(response)
    assert entry["work_order"] == done.pk and entry["source"] == "work_order" and entry["verified"]
    again = client_a.post(f"{URL}from-workorder/", {"work_order": done.pk}, format="json")
    assert again.status_code == 400
    for work_order in (duplicate, open_one):
        response = client_a.post(
            f"{URL}from-workorder/", {"work_order": work_order.pk}, format="json"
        )
        assert response.status_code == 400, response.json()
        assert "work_order" in response.json()["error"]["fields"]
    assert client_a.post(f"{URL}from-workorder/", {}, format="json").status_code == 400


def test_unauthenticated(kb_a):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401


def test_vocabulary(client_a, admin_a, client_b, tenant_a, django_capture_on_commit_callbacks):
    response = client_a.get(f"{URL}vocabulary/")
    assert_matches_schema(response, "get", "/api/v1/knowledge/vocabulary/")
    assert data(response) == {"words": [], "synonyms": []}
    body = {"words": ["数字钥匙"], "synonyms": [["数字钥匙", "手机钥匙"]]}
    assert client_a.post(f"{URL}vocabulary/", body, format="json").status_code == 403
    admin = api_client_for(admin_a)
    entry = data(
        client_a.post(URL, {"question": "手机钥匙失灵", "answer": "重新绑定。"}, format="json")
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"{URL}vocabulary/", body, format="json")
    assert_matches_schema(response, "post", "/api/v1/knowledge/vocabulary/")
    assert data(response) == body
    with tenant_scope(tenant_a):
        tokens = KnowledgeEntry.objects.get(pk=entry["id"]).question_tokens.split()
    assert "数字钥匙" in tokens
    assert data(client_b.get(f"{URL}vocabulary/")) == {"words": [], "synonyms": []}
    for bad in [{"words": "x", "synonyms": []}, {"words": [], "synonyms": [["only"]]}, {}]:
        response = admin.post(f"{URL}vocabulary/", bad, format="json")
        assert response.status_code == 400
    assert data(admin.get(f"{URL}vocabulary/")) == body
