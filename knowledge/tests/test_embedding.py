"""Background embedding of entries and similar questions: on create, edit, import and a
model change; batched, with progress; per tenant."""

import numpy as np
import pytest

from helpdesk.tenancy import tenant_scope
from knowledge import selectors, services
from knowledge.embedding import embedding_progress, tenant_embed
from knowledge.models import EntryVector
from knowledge.similar_questions import similar_question_delete, similar_questions_add
from knowledge.vectors import from_bytes


def vectors(entry):
    return {row.text_key: row for row in EntryVector.objects.filter(entry=entry)}


def test_create_edit_and_similar_questions_are_embedded_after_commit(
    stub_embeddings, tenant_a, scope_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.entry_create(
            question="家用充电桩如何安装？",
            answer="在App提交申请。",
            similar_questions=["充电桩怎么装"],
        )
    found = vectors(entry)
    assert set(found) == {"q", f"s{entry.similar_questions.get().pk}"}
    question_vector = from_bytes(found["q"].vector)
    assert question_vector.shape == (384,) and np.isclose(np.linalg.norm(question_vector), 1.0)

    with django_capture_on_commit_callbacks(execute=True):
        services.entry_update(entry=entry, question="家用充电桩如何申请安装？")
    changed = vectors(entry)["q"]
    assert changed.text_hash != found["q"].text_hash
    assert not np.allclose(from_bytes(changed.vector), question_vector)

    with django_capture_on_commit_callbacks(execute=True):
        similar_question_delete(similar=entry.similar_questions.get())
    assert set(vectors(entry)) == {"q"}


def test_only_missing_or_stale_texts_are_sent_again(stub_embeddings, scope_a):
    entry = services.entry_create(question="保养周期是多久？", answer="两年或四万公里。")
    similar_questions_add(entry=entry, texts=["多久保养一次"])
    assert tenant_embed().embedded == 2
    before = stub_embeddings.stats()["embedding_requests"]
    assert tenant_embed().embedded == 0
    assert stub_embeddings.stats()["embedding_requests"] == before


def test_a_model_change_embeds_everything_again(stub_embeddings, scope_a, monkeypatch):
    entry = services.entry_create(question="如何购买车险？", answer="在App保险页。")
    tenant_embed()
    assert vectors(entry)["q"].model.startswith("multilingual-e5-small:384")
    monkeypatch.setenv("EMBEDDINGS_MODEL", "bge-m3")
    monkeypatch.setenv("EMBEDDINGS_DIMENSIONS", "128")
    monkeypatch.setenv("EMBEDDINGS_SEND_DIMENSIONS", "1")
    assert tenant_embed().embedded == 1
    row = vectors(entry)["q"]
    assert row.model.startswith("bge-m3:128") and from_bytes(row.vector).shape == (128,)


def test_batches_and_progress(stub_embeddings, scope_a, tenant_a):
    for n in range(7):
        services.entry_create(question=f"问题{n}号怎么办", answer="答案。")
    before = stub_embeddings.stats()["embedding_requests"]
    run = tenant_embed(batch_size=3)
    assert run.embedded == 7
    # 3 rounds of at most 3 texts, each sent in requests of embeddings.batch_size (32).
    assert stub_embeddings.stats()["embedding_requests"] - before == 3
    assert embedding_progress(tenant_a.pk)["done"] == 7
    status = selectors.embedding_status()
    assert status["texts"] == status["embedded"] == 7 and status["configured"]


def test_deactivated_entries_lose_their_vectors_and_tenants_stay_apart(
    stub_embeddings, tenant_a, tenant_b
):
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="车险可以退保吗？", answer="可以。")
        tenant_embed()
    with tenant_scope(tenant_b):
        services.entry_create(question="积分有什么用？", answer="兑换商品。")
        tenant_embed()
        assert set(EntryVector.objects.values_list("entry__question", flat=True)) == {
            "积分有什么用？"
        }
    with tenant_scope(tenant_a):
        services.entry_deactivate(entry=entry)
        assert tenant_embed().deleted == 1
        assert not EntryVector.objects.exists()


def test_without_an_embeddings_service_nothing_is_scheduled(
    scope_a, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.entry_create(question="如何开发票？", answer="在订单页。")
    assert not EntryVector.objects.exists()
    assert tenant_embed().embedded == 0
    assert all("enqueue" not in repr(c) for c in callbacks)


@pytest.mark.parametrize("texts", [["x" * 501], [""]])
def test_bad_similar_questions_are_refused(scope_a, texts):
    from django.core.exceptions import ValidationError

    entry = services.entry_create(question="如何开发票？", answer="在订单页。")
    with pytest.raises(ValidationError):
        similar_questions_add(entry=entry, texts=texts)
