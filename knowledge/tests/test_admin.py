"""Admin pages: ranked search, verify actions, entry forms, vocabulary and imports."""

from django.core.files.uploadedfile import SimpleUploadedFile

from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import crafted_xlsx
from knowledge import services
from knowledge.models import CustomWord, ImportJob, KnowledgeEntry, SynonymGroup

BASE = "/admin/knowledge/"


def test_lists_search_and_other_tenant(client, agent_a, agent_b, kb_a, kb_b, superuser):
    client.force_login(agent_a)
    for url in ("knowledgeentry/", "customword/", "synonymgroup/", "importjob/", "importjob/add/"):
        assert client.get(BASE + url).status_code == 200, url
    page = client.get(BASE + "knowledgeentry/", {"q": "退款多久到账"}).content.decode()
    assert "退款多久到账？" in page and "数字钥匙无法开门" not in page
    assert "租户乙" not in client.get(BASE + "knowledgeentry/").content.decode()
    change = f"{BASE}knowledgeentry/{kb_a[0].pk}/change/"
    assert client.get(change).status_code == 200
    client.force_login(agent_b)
    assert client.get(change).status_code == 302
    client.force_login(superuser)
    assert client.get(change).status_code == 200


def test_add_and_change_go_through_services(client, agent_a, tenant_a, kb_a):
    client.force_login(agent_a)
    form = {"question": "座椅加热怎么开", "answer": "在空调页点击座椅图标。", "category": "座椅"}
    form |= {"tags": "[]", "is_active": "on"}
    response = client.post(BASE + "knowledgeentry/add/", form)
    assert response.status_code == 302
    bad = client.post(BASE + "knowledgeentry/add/", {**form, "question": "   "})
    assert bad.status_code == 200
    with tenant_scope(tenant_a):
        entry = KnowledgeEntry.objects.get(question="座椅加热怎么开")
        assert entry.created_by == agent_a and "座椅" in entry.question_tokens
        assert KnowledgeEntry.objects.count() == 6
    verified = kb_a[0]
    response = client.post(
        f"{BASE}knowledgeentry/{verified.pk}/change/",
        {**form, "question": "App 登录不了", "answer": verified.answer},
    )
    assert response.status_code == 302
    verified.refresh_from_db()
    assert verified.question == "App 登录不了" and not verified.verified


def test_actions(client, agent_a, tenant_a, kb_a):
    client.force_login(agent_a)
    ids = [str(e.pk) for e in kb_a[:2]]
    for name in ("unverify_selected", "verify_selected", "deactivate_selected"):
        response = client.post(BASE + "knowledgeentry/", {"action": name, "_selected_action": ids})
        assert response.status_code == 302, name
    with tenant_scope(tenant_a):
        rows = KnowledgeEntry.objects.filter(pk__in=ids)
        assert all(e.verified and not e.is_active for e in rows)


def test_vocabulary_edit_reindexes(client, admin_a, tenant_a, django_capture_on_commit_callbacks):
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="远程控制失灵", answer="检查网络。")
    client.force_login(admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(BASE + "customword/add/", {"word": "远程控制"})
        client.post(BASE + "synonymgroup/add/", {"terms_text": "远程控制，远控"})
    with tenant_scope(tenant_a):
        assert CustomWord.objects.count() == 1
        assert SynonymGroup.objects.get().terms == ["远程控制", "远控"]
        entry.refresh_from_db()
        assert "远程控制" in entry.question_tokens.split()


def test_import_upload(client, agent_a, tenant_a):
    client.force_login(agent_a)
    content = "问题,答案\n发票怎么开,订单页申请。\n".encode()
    response = client.post(
        BASE + "importjob/add/", {"upload": SimpleUploadedFile("faq.csv", content)}
    )
    assert response.status_code == 302
    bad = client.post(BASE + "importjob/add/", {"upload": SimpleUploadedFile("x.exe", b"MZ")})
    assert bad.status_code == 200
    with tenant_scope(tenant_a):
        job = ImportJob.objects.get()
        assert job.status == "done" and job.created_count == 1
    page = client.get(BASE + "importjob/").content.decode()
    assert "faq.csv" in page and "100%" in page
    assert client.get(f"{BASE}importjob/{job.pk}/change/").status_code == 200


def test_import_upload_refused_by_the_archive_check_or_the_queue(client, agent_a, tenant_a):
    """Both are form errors, not a 500 when the job is saved; nothing is created."""
    client.force_login(agent_a)
    get_config().set("imports.max_uncompressed_mb", 1)
    bomb = SimpleUploadedFile("bomb.xlsx", crafted_xlsx(cell_text="a" * 2 * 2**20))
    response = client.post(BASE + "importjob/add/", {"upload": bomb})
    assert response.status_code == 200
    assert "1 MB" in response.content.decode()
    get_config().set("imports.queued_per_tenant", 1)
    with tenant_scope(tenant_a):
        ImportJob.objects.create(kind="qa", file_name="waiting.csv", file_sha256="0", content=b"x")
    content = "问题,答案\n发票怎么开,订单页申请。\n".encode()
    response = client.post(
        BASE + "importjob/add/", {"upload": SimpleUploadedFile("faq.csv", content)}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["upload"] == [
        "本租户已有 1 个导入在等待或进行中（最多 1 个），请稍后再试。"
    ]
    with tenant_scope(tenant_a):
        assert list(ImportJob.objects.values_list("file_name", flat=True)) == ["waiting.csv"]


def test_viewers_cannot_run_actions(client, viewer_a, tenant_a, kb_a):
    client.force_login(viewer_a)
    ids = [str(e.pk) for e in kb_a[:2]]
    for name in ("unverify_selected", "verify_selected", "deactivate_selected"):
        client.post(BASE + "knowledgeentry/", {"action": name, "_selected_action": ids})
    with tenant_scope(tenant_a):
        rows = KnowledgeEntry.objects.filter(pk__in=ids)
        assert all(e.verified and e.is_active for e in rows)


def test_superuser_actions_run_in_each_rows_tenant(
    client, superuser, tenant_a, tenant_b, kb_a, kb_b
):
    client.force_login(superuser)
    ids = [str(kb_a[0].pk), str(kb_b[0].pk)]
    for name in ("verify_selected", "unverify_selected", "deactivate_selected"):
        response = client.post(BASE + "knowledgeentry/", {"action": name, "_selected_action": ids})
        assert response.status_code == 302, name
    for tenant, entry in ((tenant_a, kb_a[0]), (tenant_b, kb_b[0])):
        with tenant_scope(tenant):
            entry.refresh_from_db()
            assert not entry.verified and not entry.is_active
