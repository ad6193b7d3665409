"""The acknowledge button of an alert card."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from alerts.models import Alert
from alerts.services import alert_acknowledge
from feishu.models import FeishuApp, OutboundMessage

logger = logging.getLogger(__name__)


def alert_acknowledge_from_card(*, app: FeishuApp, alert_id: int, open_id: str) -> dict[str, Any]:
    """Acknowledge an alert whose card this app sent. Feishu users are not staff accounts,
    so the acknowledgement has no user; the Feishu user is logged."""
    sent = OutboundMessage.objects.filter(
        app=app, alert_id=alert_id, purpose=OutboundMessage.Purpose.ALERT
    ).exists()
    alert = Alert.objects.filter(pk=alert_id).first()
    if not sent or alert is None:
        return {"toast": {"type": "error", "content": _("This alert is not known here.")}}
    try:
        alert_acknowledge(alert=alert, actor=None)
    except ValidationError:
        return {"toast": {"type": "info", "content": _("This alert is no longer active.")}}
    logger.info("Alert %s acknowledged from Feishu by %s.", alert_id, open_id)
    return {"toast": {"type": "success", "content": _("Alert acknowledged.")}}
