"""Alert fixtures: metrics whose values the test sets, per tenant, in any unit."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from alerts.models import AlertRule
from alerts.registry import Unit, metric, unregister
from alerts.services import alert_rule_create
from helpdesk.tenancy import tenant_scope


class Probe:
    """A registered metric returning `values[tenant.slug]` (raising it if it is an exception)."""

    def __init__(self, name: str, unit: Unit) -> None:
        self.name = name
        self.unit = unit
        self.values: dict[str, Any] = {}
        self.windows: list[tuple[Any, Any]] = []
        metric(name, unit=unit, label=f"探针 {name}")(self)

    def __call__(self, *, tenant, since, until) -> float | None:
        self.windows.append((since, until))
        value = self.values.get(tenant.slug)
        if isinstance(value, BaseException):
            raise value
        return value


@pytest.fixture
def make_probe() -> Iterator[Callable[..., Probe]]:
    names: list[str] = []

    def make(name: str = "test.probe", unit: Unit = Unit.MILLISECONDS) -> Probe:
        names.append(name)
        return Probe(name, unit)

    yield make
    for name in names:
        unregister(name)


@pytest.fixture
def probe(make_probe) -> Probe:
    return make_probe()


@pytest.fixture
def make_rule(db) -> Callable[..., AlertRule]:
    def make(tenant, **fields) -> AlertRule:
        fields.setdefault("name", "探针过高")
        fields.setdefault("metric", "test.probe")
        fields.setdefault("comparison", "gt")
        fields.setdefault("threshold", 5000)
        fields.setdefault("window_minutes", 15)
        fields.setdefault("cooldown_minutes", 30)
        with tenant_scope(tenant):
            return alert_rule_create(**fields)

    return make
