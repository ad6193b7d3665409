"""Reads of the Feishu channel."""

from __future__ import annotations

import time
from datetime import datetime

from django.db.models import QuerySet

from feishu.models import BitableSync, FeishuApp, OutboundMessage

APP_CACHE_SECONDS = 5.0
_apps: dict[str, tuple[float, FeishuApp]] = {}


def callback_app(app_id: str) -> FeishuApp | None:
    """The active app a callback URL names, with its tenant.

    The callback's entry point: the tenant is not known before the app is found, so this
    one lookup crosses tenants (app ids are unique across tenants). A found app is kept
    in the process for APP_CACHE_SECONDS (every callback needs it; a change applies
    within that time). Misses are not kept: anyone can post to any app id.
    """
    now = time.monotonic()
    cached = _apps.get(app_id)
    if cached is not None:
        if cached[0] > now:
            return cached[1]
        _apps.pop(app_id, None)
    app = (
        FeishuApp.all_tenants.select_related("tenant")
        .filter(app_id=app_id, is_active=True, tenant__is_active=True)
        .first()
    )
    if app is not None:
        _apps[app_id] = (now + APP_CACHE_SECONDS, app)
    return app


def forget_callback_apps() -> None:
    _apps.clear()


def app_id_in_use(app_id: str, *, other_than: int | None = None) -> bool:
    """Whether any tenant has connected this app id (they are unique across tenants);
    says nothing about whose it is."""
    return FeishuApp.all_tenants.filter(app_id=app_id).exclude(pk=other_than).exists()


def apps_for_tenant() -> QuerySet[FeishuApp]:
    return FeishuApp.objects.all().order_by("name", "id")


def delivery_failures(*, since: datetime, until: datetime) -> int:
    return OutboundMessage.objects.filter(
        status=OutboundMessage.Status.FAILED, finished_at__gte=since, finished_at__lt=until
    ).count()


def bitable_syncs_due(*, now: datetime) -> list[BitableSync]:
    due = []
    for sync in BitableSync.objects.filter(enabled=True, app__is_active=True).select_related("app"):
        if sync.last_pull_at is None or (now - sync.last_pull_at).total_seconds() >= (
            sync.interval_minutes * 60
        ):
            due.append(sync)
    return due
