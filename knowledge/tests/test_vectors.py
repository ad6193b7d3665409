"""The vector index: the same tests against each implementation (in-process always,
pgvector where the database has the extension)."""

import numpy as np
from django.db import connection

from helpdesk.tenancy import tenant_scope
from knowledge import services
from knowledge.embedding import tenant_embed
from knowledge.similar_questions import similar_questions_add
from knowledge.vectors import VectorQuery, vector_index
from llm.embeddings import EmbeddingSettings, get_embeddings_client


def query_for(tenant, text):
    settings = EmbeddingSettings.load()
    vector = get_embeddings_client().embed_query(text, settings)
    return VectorQuery(tenant.pk, settings.signature, settings.dimensions, vector)


def test_nearest_and_similarities(vector_backend, stub_embeddings, tenant_a, tenant_b):
    assert vector_index().name == vector_backend
    with tenant_scope(tenant_b):
        services.entry_create(question="家用充电桩如何安装", answer="乙的答案。")
        tenant_embed()
    with tenant_scope(tenant_a):
        install = services.entry_create(question="家用充电桩如何安装", answer="申请。")
        insurance = services.entry_create(question="如何购买车险", answer="保险页。")
        similar_questions_add(entry=insurance, texts=["在哪里买保险"])
        tenant_embed()
        query = query_for(tenant_a, "家用充电桩如何安装")
        nearest = vector_index().nearest(query, limit=5)
        assert next(iter(nearest)) == install.pk
        assert set(nearest) == {install.pk, insurance.pk}  # never tenant B's entry
        assert np.isclose(nearest[install.pk], 1.0, atol=1e-3)
        by_similar = vector_index().nearest(query_for(tenant_a, "在哪里买保险"), limit=1)
        assert by_similar == {insurance.pk: by_similar[insurance.pk]}
        assert np.isclose(by_similar[insurance.pk], 1.0, atol=1e-3)
        scores = vector_index().similarities(query, [insurance.pk, install.pk, 999999])
        assert set(scores) == {install.pk, insurance.pk}
        assert scores[install.pk] > scores[insurance.pk]


def test_inactive_entries_and_other_models_are_not_found(
    vector_backend, stub_embeddings, tenant_a, django_capture_on_commit_callbacks
):
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="保养周期是多久", answer="两年。")
        tenant_embed()
        query = query_for(tenant_a, "保养周期是多久")
        assert list(vector_index().nearest(query, limit=3)) == [entry.pk]
        # The deactivation moves the search generation on when it commits.
        with django_capture_on_commit_callbacks(execute=True):
            services.entry_deactivate(entry=entry)
        assert vector_index().nearest(query, limit=3) == {}
        other = VectorQuery(tenant_a.pk, "another-model:384", 384, query.vector)
        assert vector_index().nearest(other, limit=3) == {}


def test_vectors_written_without_the_index_are_indexed_by_the_next_run(
    vector_backend, stub_embeddings, tenant_a
):
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="车险可以退保吗", answer="可以。")
        tenant_embed()
        if vector_backend == "pgvector":
            with connection.cursor() as cursor:
                cursor.execute("UPDATE knowledge_entryvector SET embedding = NULL")
            assert vector_index().nearest(query_for(tenant_a, "车险可以退保吗"), limit=3) == {}
        run = tenant_embed()
        assert run.embedded == 0
        assert run.backfilled == (1 if vector_backend == "pgvector" else 0)
        assert list(vector_index().nearest(query_for(tenant_a, "车险可以退保吗"), limit=3)) == [
            entry.pk
        ]
