"""Deleting a conversation, a message or an LLM call marks its days' rollups as stale.

A conversation marks the days from its start to its last activity, which every message
moves forward: the messages deleted with it mark nothing more. The rows of one deletion
(one `origin`: an instance or a queryset) mark a tenant's day once, so a bulk delete
costs an update per day, not per row.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from django.db.models import QuerySet
from django.db.models.signals import post_delete
from django.dispatch import receiver

from dialogue.models import ChatSession, Message
from llm.models import LLMCall
from reports.services import rollups_mark_stale, utc_day

# The (tenant, UTC day) pairs each deletion in progress has marked.
_marked: WeakKeyDictionary[Any, set[tuple[int, Any]]] = WeakKeyDictionary()


def _mark(origin: Any, tenant_id: int, moment: datetime, until: datetime | None = None) -> None:
    first, last = sorted((utc_day(moment), utc_day(until or moment)))
    days = {(tenant_id, first + timedelta(days=n)) for n in range((last - first).days + 1)}
    try:
        done = _marked.setdefault(origin, set())
    except TypeError:  # no origin, or one that cannot be remembered
        done = set()
    if days <= done:
        return
    rollups_mark_stale(tenant_id=tenant_id, moment=moment, until=until)
    done |= days


def _deletes_sessions(origin: Any) -> bool:
    model = origin.model if isinstance(origin, QuerySet) else type(origin)
    return issubclass(model, ChatSession)


@receiver(post_delete, sender=ChatSession, dispatch_uid="reports_session_deleted")
def session_deleted(sender: Any, instance: ChatSession, origin: Any = None, **kwargs: Any) -> None:
    _mark(origin, instance.tenant_id, instance.started_at, instance.last_activity_at)


@receiver(post_delete, sender=Message, dispatch_uid="reports_message_deleted")
def message_deleted(sender: Any, instance: Message, origin: Any = None, **kwargs: Any) -> None:
    if not _deletes_sessions(origin):  # else its session marked its day
        _mark(origin, instance.tenant_id, instance.created_at)


@receiver(post_delete, sender=LLMCall, dispatch_uid="reports_llm_call_deleted")
def llm_call_deleted(sender: Any, instance: LLMCall, origin: Any = None, **kwargs: Any) -> None:
    _mark(origin, instance.tenant_id, instance.created_at)
