"""Usage counts from parallel answers: atomic increments lose nothing."""

import threading

import pytest
from django.db import connection

from helpdesk.tenancy import tenant_scope
from knowledge import services
from knowledge.models import KnowledgeEntry


@pytest.mark.django_db(transaction=True)
def test_parallel_usage_counts_lose_nothing(tenant_a):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs a server database")
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="如何申请退款？", answer="订单页申请。")

    def worker() -> None:
        try:
            with tenant_scope(tenant_a):
                for _ in range(20):
                    services.entries_record_usage(entry_ids=[entry.pk])
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with tenant_scope(tenant_a):
        assert KnowledgeEntry.objects.get(pk=entry.pk).usage_count == 100
