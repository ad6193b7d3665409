"""Writes of the Feishu channel: apps, their connection check, received events."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from feishu import sending
from feishu.client import FeishuAPIError, forget_token
from feishu.inbound import MalformedEvent, json_object, message_id_of, sender_and_chat
from feishu.models import DOMAINS, FeishuApp, InboundEvent
from feishu.selectors import forget_callback_apps
from helpdesk.config_schema import check_outbound_url

logger = logging.getLogger(__name__)

REQUIRED_SCOPES = {
    "im:message": "messages",
    "im:message:send_as_bot": "messages",
    "bitable:app": "bitable",
}
APP_FIELDS = {
    "name",
    "app_id",
    "app_secret",
    "verification_token",
    "encrypt_key",
    "bot_open_id",
    "domain",
    "alert_chat_id",
    "is_active",
}
# A received event still unanswered after this long (its worker died) is handled again
# when Feishu redelivers it.
STALE_AFTER = timedelta(minutes=10)
MESSAGE_ID_LENGTH = InboundEvent._meta.get_field("message_id").max_length


def _check_domain(domain: str) -> None:
    """feishu, lark, or the https:// origin of a private deployment; a plain http:// one
    (the local stub) only where private addresses are allowed (OUTBOUND_ALLOW_PRIVATE),
    since the app secret is sent there."""
    if domain in DOMAINS:
        return
    parts = urlsplit(domain)
    origin = not (parts.path.strip("/") or parts.query or parts.fragment)
    secure = parts.scheme == "https" or settings.OUTBOUND_ALLOW_PRIVATE
    if origin and secure and check_outbound_url(domain) is None:
        return
    raise ValidationError(
        {"domain": _("Use feishu, lark, or an https:// base URL of a private deployment.")}
    )


def _save(app: FeishuApp) -> FeishuApp:
    _check_domain(app.domain)
    app.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            app.save()
            transaction.on_commit(forget_callback_apps)
    except IntegrityError:
        raise ValidationError(
            {"app_id": _("This app is already connected (app ids are unique).")}
        ) from None
    return app


def feishu_app_create(*, name: str, app_id: str, app_secret: str, **fields: Any) -> FeishuApp:
    unknown = set(fields) - APP_FIELDS
    if unknown:
        raise ValidationError({key: _("Unknown field.") for key in unknown})
    return _save(FeishuApp(name=name, app_id=app_id, app_secret=app_secret, **fields))


def feishu_app_update(*, app: FeishuApp, **fields: Any) -> FeishuApp:
    unknown = set(fields) - APP_FIELDS
    if unknown:
        raise ValidationError({key: _("This field cannot be changed.") for key in unknown})
    for name, value in fields.items():
        setattr(app, name, value)
    return _save(app)


def feishu_app_delete(*, app: FeishuApp) -> None:
    with transaction.atomic():
        app.delete()
        transaction.on_commit(forget_callback_apps)


def feishu_app_check(*, app: FeishuApp) -> dict[str, Any]:
    """Fetch a token and the granted scopes; store and return what is missing."""
    result: dict[str, Any] = {"ok": False, "missing_scopes": [], "error": ""}
    forget_token(app)  # the check fetches a new token with the stored secret
    try:
        granted = sending.granted_scopes(app)
        result["missing_scopes"] = sorted(set(REQUIRED_SCOPES) - granted)
        result["ok"] = not result["missing_scopes"]
    except FeishuAPIError as exc:
        result["error"] = f"{exc.code}: {exc.msg}"
    FeishuApp.objects.filter(pk=app.pk).update(last_checked_at=timezone.now(), last_check=result)
    app.last_check = result
    return result


def without_token(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as it is stored: without `header.token`, the app's verification token
    (checked on receipt, and a secret that viewers of the events must not read)."""
    header = payload.get("header")
    if not isinstance(header, dict) or "token" not in header:
        return payload
    return {**payload, "header": {k: v for k, v in header.items() if k != "token"}}


def inbound_event_record(
    *, app: FeishuApp, kind: str, payload: dict[str, Any], via: str, message_id: str = ""
) -> tuple[InboundEvent, bool]:
    """Record a received event once per (app, message id); (event, whether to handle it).

    A redelivery counts on the existing row. It is handled again only when its first
    delivery was never handled and is stale (the worker that had it is gone).
    """
    message_id = message_id or message_id_of(payload)
    if len(message_id) > MESSAGE_ID_LENGTH:
        raise MalformedEvent("message id too long")
    header = json_object(payload, "header")
    open_id, chat_id = sender_and_chat(payload)
    try:
        with transaction.atomic():
            event = InboundEvent.objects.create(
                app=app,
                kind=kind,
                message_id=message_id,
                event_id=str(header.get("event_id", ""))[:128],
                payload=without_token(payload),
                via=via,
                open_id=str(open_id or "")[:128],
                chat_id=str(chat_id)[:128],
            )
        return event, True
    except IntegrityError:
        pass
    stale_before = timezone.now() - STALE_AFTER
    with transaction.atomic():
        event = InboundEvent.objects.select_for_update().get(app=app, message_id=message_id)
        InboundEvent.objects.filter(pk=event.pk).update(deliveries=F("deliveries") + 1)
        retry = event.status == InboundEvent.Status.RECEIVED and event.received_at < stale_before
        if retry:
            InboundEvent.objects.filter(pk=event.pk).update(received_at=timezone.now())
    return event, retry


def inbound_event_finish(*, event: InboundEvent, status: str, note: str = "") -> None:
    InboundEvent.objects.filter(pk=event.pk).update(
        status=status, note=note[:500], handled_at=timezone.now()
    )
    event.status = status
