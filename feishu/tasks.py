"""Background work of the Feishu channel: answering, sending, Bitable sync."""

from __future__ import annotations

from django.core.cache import cache
from django.tasks import task

from feishu.handling import message_event_handle
from feishu.models import InboundEvent, OutboundMessage
from feishu.outbound import outbound_send
from helpdesk.tasks import tenant_task


@task()
@tenant_task
def answer_message(*, tenant_id: int, event_id: int) -> str:
    event = InboundEvent.objects.select_related("app", "tenant").get(pk=event_id)
    # One worker at a time per event, should a redelivery enqueue it again.
    claim = f"feishu:answering:{event_id}"
    if event.status != InboundEvent.Status.RECEIVED or not cache.add(claim, 1, timeout=600):
        return event.status
    try:
        return message_event_handle(event=event)
    finally:
        cache.delete(claim)


@task()
@tenant_task
def send_outbound(*, tenant_id: int, outbound_id: int) -> str:
    outbound = OutboundMessage.objects.select_related("app").get(pk=outbound_id)
    return outbound_send(outbound=outbound).status
