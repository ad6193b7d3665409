"""What the Feishu channel does when other apps' rows change.

An AI suggestion created for a work order mirrored from a Bitable row (a sync that is
enabled and writes back) is written to the row's AI建议 column by the task worker
(`feishu.tasks.bitable_suggestion`) once the suggestion is committed. The suggestion
service (`dialogue.suggestions`) knows nothing of Feishu; this receiver is the hook.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from dialogue.models import WorkOrderSuggestion
from feishu.models import BitableRecordLink
from feishu.tasks import bitable_suggestion


def _suggestion_saved(
    sender: Any, instance: WorkOrderSuggestion, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    linked = BitableRecordLink.objects.filter(
        work_order_id=instance.work_order_id, sync__enabled=True, sync__push_enabled=True
    ).exists()
    if not linked:
        return
    transaction.on_commit(
        partial(
            bitable_suggestion.enqueue,
            tenant_id=instance.tenant_id,
            work_order_id=instance.work_order_id,
            text=instance.content,
        )
    )


def connect_signals() -> None:
    post_save.connect(
        _suggestion_saved, sender=WorkOrderSuggestion, dispatch_uid="feishu-suggestion-write-back"
    )
