"""Two evaluators at once still leave one open alert per rule (PostgreSQL, real threads)."""

import threading

import pytest
from django.db import connection

from alerts.evaluation import Outcome, alerts_evaluate_tenant
from alerts.models import Alert
from alerts.registry import Unit, metric, unregister
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent database connections"
)


@pytest.fixture
def slow_metric():
    both_measured = threading.Barrier(2, timeout=10)

    def slow(*, tenant, since, until) -> float:
        both_measured.wait()  # both evaluators have seen "no open alert" before either inserts
        return 6000.0

    metric("test.slow", unit=Unit.MILLISECONDS, label="慢探针")(slow)
    yield
    unregister("test.slow")


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_open_one_alert(tenant_a, slow_metric, make_rule):
    make_rule(tenant_a, metric="test.slow")
    outcomes: list[str] = []

    def evaluate() -> None:
        try:
            outcomes.extend(r.outcome for r in alerts_evaluate_tenant(tenant=tenant_a))
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == sorted([Outcome.FIRED, Outcome.UPDATED])
    with tenant_scope(tenant_a):
        [alert] = Alert.objects.all()
    assert alert.count == 2
