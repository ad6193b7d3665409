"""Reads: filtered alert lists and their statistics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from alerts.models import Alert, Level


def alerts_filter(
    *,
    status: list[str] | None = None,
    level: list[str] | None = None,
    source: str | None = None,
    rule: int | None = None,
    metric: str | None = None,
    open: bool | None = None,
    seen_after: datetime | None = None,
    seen_before: datetime | None = None,
    q: str | None = None,
    ordering: str = "-last_seen_at",
) -> QuerySet[Alert]:
    alerts = Alert.objects.all()
    if status:
        alerts = alerts.filter(status__in=status)
    if level:
        alerts = alerts.filter(level__in=level)
    if source:
        alerts = alerts.filter(source=source)
    if rule is not None:
        alerts = alerts.filter(rule_id=rule)
    if metric:
        alerts = alerts.filter(metric=metric)
    if open is not None:
        condition = Q(status__in=Alert.OPEN_STATUSES)
        alerts = alerts.filter(condition) if open else alerts.exclude(condition)
    if seen_after is not None:
        alerts = alerts.filter(last_seen_at__gte=seen_after)
    if seen_before is not None:
        alerts = alerts.filter(first_seen_at__lt=seen_before)
    if q:
        alerts = alerts.filter(Q(title__icontains=q) | Q(message__icontains=q))
    return alerts.order_by(ordering, "-id")


def alert_statistics(alerts: QuerySet[Alert]) -> dict[str, Any]:
    """Counts by status and by level, and open alerts by level, in one query."""
    aggregates: dict[str, Any] = {"total": Count("id")}
    for status in Alert.Status.values:
        aggregates[f"status_{status}"] = Count("id", filter=Q(status=status))
    for level in Level.values:
        aggregates[f"level_{level}"] = Count("id", filter=Q(level=level))
        aggregates[f"open_{level}"] = Count(
            "id", filter=Q(level=level, status__in=Alert.OPEN_STATUSES)
        )
    row = alerts.order_by().aggregate(**aggregates)
    return {
        "total": row["total"],
        "by_status": {status: row[f"status_{status}"] for status in Alert.Status.values},
        "by_level": {level: row[f"level_{level}"] for level in Level.values},
        "open_by_level": {level: row[f"open_{level}"] for level in Level.values},
    }
