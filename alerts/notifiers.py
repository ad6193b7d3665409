"""Notifiers: told when an alert opens or resolves.

A notifier is a class with a `channel` name and `notify(*, alert, event, message)`; the
classes in the `alerts.notifiers` configuration key are called in order, inside the
transaction that changed the alert. A notifier that talks to the network (Feishu, mail)
should enqueue a task there (`task.enqueue(...)` via `transaction.on_commit`) instead of
sending inline. A failing notifier is logged and skipped; it never undoes the alert.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.db import transaction
from django.utils.module_loading import import_string

from alerts.models import Alert, AlertNotification
from helpdesk.config import get_config

logger = logging.getLogger(__name__)


class Notifier(Protocol):
    channel: str

    def notify(self, *, alert: Alert, event: AlertNotification.Event, message: str) -> None: ...


class InAppNotifier:
    """Stores the notification: the in-app inbox, shown in the admin (on the alert) and at
    /api/v1/alerts/notifications/."""

    channel = "in_app"

    def notify(self, *, alert: Alert, event: AlertNotification.Event, message: str) -> None:
        AlertNotification.objects.create(
            alert=alert, event=event, channel=self.channel, message=message
        )


def configured_notifiers() -> list[Notifier]:
    notifiers: list[Notifier] = []
    for path in get_config().get("alerts.notifiers"):
        try:
            notifiers.append(import_string(path)())
        except Exception:
            logger.exception("Alert notifier %r cannot be loaded; skipped.", path)
    return notifiers


def notify_all(*, alert: Alert, event: AlertNotification.Event, message: str) -> None:
    for notifier in configured_notifiers():
        try:
            # A savepoint, so that a notifier's database error cannot abort the caller's
            # transaction (PostgreSQL refuses every later statement otherwise).
            with transaction.atomic():
                notifier.notify(alert=alert, event=event, message=message)
        except Exception:
            logger.exception(
                "Notifier %s failed for alert %s (%s).", notifier.channel, alert.pk, event
            )
