"""Alerts to Feishu: an alert card to each app's alert group chat when an alert opens
(with an acknowledge button) and when it resolves.

Enable it by adding `feishu.notifiers.FeishuAlertNotifier` to `alerts.notifiers`, and set
the group chat on the tenant's Feishu app.
"""

from __future__ import annotations

from alerts.models import Alert, AlertNotification
from feishu.cards import alert_card
from feishu.delivery import outbound_queue
from feishu.models import FeishuApp, OutboundMessage


class FeishuAlertNotifier:
    channel = "feishu"

    def notify(self, *, alert: Alert, event: AlertNotification.Event, message: str) -> None:
        card = alert_card(
            title=alert.title,
            message=message or alert.message,
            level=alert.level,
            resolved=event == AlertNotification.Event.RESOLVED,
            alert_id=alert.pk,
        )
        for app in FeishuApp.objects.filter(is_active=True).exclude(alert_chat_id=""):
            # The row is written in the alert's transaction; the card is sent after commit.
            outbound_queue(
                app=app,
                purpose=OutboundMessage.Purpose.ALERT,
                msg_type="interactive",
                content=card,
                chat_id=app.alert_chat_id,
                alert=alert,
            )
