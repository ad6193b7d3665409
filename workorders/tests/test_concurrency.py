"""Numbers stay unique when several threads create work orders at once (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from helpdesk.tenancy import tenant_scope
from workorders.models import WorkOrder
from workorders.services import workorder_create

THREADS = 6
PER_THREAD = 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_gets_distinct_consecutive_numbers(tenant_a):
    if connection.vendor != "postgresql":
        pytest.skip("row locking and real concurrency need PostgreSQL")
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker() -> None:
        from django.db import connections

        try:
            with tenant_scope(tenant_a):
                start.wait()
                for n in range(PER_THREAD):
                    workorder_create(title=f"并发 {n}")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tenant_scope(tenant_a):
        numbers = sorted(WorkOrder.objects.values_list("number", flat=True))
    assert len(numbers) == THREADS * PER_THREAD
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, THREADS * PER_THREAD + 1))
