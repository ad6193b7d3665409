"""Alert metrics of the Feishu channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from alerts.registry import Unit, metric
from feishu import selectors


@metric(
    "feishu.delivery_failures",
    unit=Unit.COUNT,
    label=_("Feishu messages that could not be delivered"),
)
def delivery_failures(*, tenant: Any, since: datetime, until: datetime) -> float:
    return selectors.delivery_failures(since=since, until=until)
