"""Background work of the Feishu channel: answering, sending, Bitable sync."""

from __future__ import annotations

from django.core.cache import cache
from django.tasks import task

from feishu.bitable.pull import bitable_pull
from feishu.bitable.push import bitable_push
from feishu.bitable.suggestions import suggestion_write_back
from feishu.handling import message_event_handle
from feishu.models import BitableSync, InboundEvent, OutboundMessage
from feishu.outbound import outbound_send
from helpdesk.tasks import tenant_task
from workorders.models import WorkOrder


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


@task()
@tenant_task
def bitable_sync(*, tenant_id: int, sync_id: int, full: bool = False) -> dict[str, str]:
    """Pull the table, then push local changes; one run at a time per table."""
    sync = BitableSync.objects.select_related("app").get(pk=sync_id)
    claim = f"feishu:bitable:{sync_id}"
    if not cache.add(claim, 1, timeout=3600):
        return {"pull": "already running"}
    try:
        outcome = {"pull": bitable_pull(sync=sync, full=full).status}
        if sync.push_enabled and outcome["pull"] == "done":
            outcome["push"] = bitable_push(sync=sync, permission_checked=True).status
        return outcome
    finally:
        cache.delete(claim)


@task()
@tenant_task
def bitable_suggestion(*, tenant_id: int, work_order_id: int, text: str) -> str:
    """Write an AI suggestion to the work order's Bitable row (AI建议)."""
    work_order = WorkOrder.objects.get(pk=work_order_id)
    run = suggestion_write_back(work_order=work_order, text=text)
    return run.status if run is not None else "no bitable row"
