"""The metric registry: named functions of (tenant, window) with a declared unit.

Apps register metrics in their `metrics` module (autodiscovered by the alerts app):

    @metric("workorders.backlog", unit=Unit.COUNT, label=_("Open backlog"))
    def backlog(*, tenant, since, until) -> float | None: ...

A metric function runs inside the tenant's scope and returns None when the window has
no data. Rule thresholds are stored in the metric's unit, so a value is only ever
compared with a threshold of the same unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _


class Unit(StrEnum):
    COUNT = "count"
    RATIO = "ratio"  # 0..1
    MILLISECONDS = "ms"
    SECONDS = "s"
    HOURS = "h"
    SCORE = "score"
    CNY = "cny"
    PER_HOUR = "per_hour"

    @property
    def label(self) -> Promise:
        return UNIT_LABELS[self]

    def check_threshold(self, value: float) -> None:
        """Raise ValueError when `value` cannot be a threshold in this unit."""
        if not math.isfinite(value):
            raise ValueError(gettext("The threshold must be a finite number."))
        if value < 0:
            raise ValueError(gettext("The threshold cannot be negative."))
        if self is Unit.RATIO and value > 1:
            raise ValueError(
                gettext("This metric is a ratio from 0 to 1 (0.6 means 60%%); got %(value)s.")
                % {"value": value}
            )

    def format(self, value: float) -> str:
        """A measured value or threshold for people, with its unit."""
        if self is Unit.RATIO:
            return f"{value * 100:.1f}%"
        if self is Unit.CNY:
            return f"¥{value:.2f}"
        number = f"{value:.0f}" if self is Unit.COUNT else f"{value:.2f}".rstrip("0").rstrip(".")
        return gettext("%(number)s %(unit)s") % {"number": number, "unit": UNIT_SYMBOLS[self]}


# Ratios and CNY are formatted without a symbol lookup (60.0%, ¥12.00).
UNIT_SYMBOLS: dict[Unit, Promise] = {
    Unit.COUNT: pgettext_lazy("unit symbol", "items"),
    Unit.MILLISECONDS: pgettext_lazy("unit symbol", "ms"),
    Unit.SECONDS: pgettext_lazy("unit symbol", "s"),
    Unit.HOURS: pgettext_lazy("unit symbol", "h"),
    Unit.SCORE: pgettext_lazy("unit symbol", "points"),
    Unit.PER_HOUR: pgettext_lazy("unit symbol", "per hour"),
}

UNIT_LABELS: dict[Unit, Promise] = {
    Unit.COUNT: _("count"),
    Unit.RATIO: _("ratio (0 to 1)"),
    Unit.MILLISECONDS: _("milliseconds"),
    Unit.SECONDS: _("seconds"),
    Unit.HOURS: _("hours"),
    Unit.SCORE: _("score"),
    Unit.CNY: _("CNY"),
    Unit.PER_HOUR: _("per hour"),
}


class MetricFunc(Protocol):
    def __call__(self, *, tenant: Any, since: datetime, until: datetime) -> float | None: ...


@dataclass(frozen=True)
class Metric:
    name: str
    unit: Unit
    label: Promise | str
    func: MetricFunc

    def measure(self, *, tenant: Any, since: datetime, until: datetime) -> float | None:
        value = self.func(tenant=tenant, since=since, until=until)
        return None if value is None else float(value)


class UnknownMetric(KeyError):
    pass


_REGISTRY: dict[str, Metric] = {}


def metric(name: str, *, unit: Unit, label: Promise | str) -> Callable[[MetricFunc], MetricFunc]:
    """Register the decorated function as metric `name`. Names are unique."""

    def register(func: MetricFunc) -> MetricFunc:
        existing = _REGISTRY.get(name)
        if existing is not None and existing.func is not func:
            qualname = getattr(existing.func, "__qualname__", repr(existing.func))
            raise ValueError(f"metric {name!r} is already registered by {qualname}")
        _REGISTRY[name] = Metric(name=name, unit=Unit(unit), label=label, func=func)
        return func

    return register


def get_metric(name: str) -> Metric:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownMetric(name) from None


def all_metrics() -> list[Metric]:
    return sorted(_REGISTRY.values(), key=lambda m: m.name)


def unregister(name: str) -> None:
    """Remove a metric (tests register throw-away metrics and remove them again)."""
    _REGISTRY.pop(name, None)
