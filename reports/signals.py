"""Deleting a conversation, a message or an LLM call marks its day's rollup as stale."""

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from dialogue.models import ChatSession, Message
from llm.models import LLMCall
from reports.services import rollups_mark_stale


@receiver(post_delete, sender=ChatSession, dispatch_uid="reports_session_deleted")
def session_deleted(sender: Any, instance: ChatSession, **kwargs: Any) -> None:
    rollups_mark_stale(tenant_id=instance.tenant_id, moment=instance.started_at)


@receiver(post_delete, sender=Message, dispatch_uid="reports_message_deleted")
def message_deleted(sender: Any, instance: Message, **kwargs: Any) -> None:
    rollups_mark_stale(tenant_id=instance.tenant_id, moment=instance.created_at)


@receiver(post_delete, sender=LLMCall, dispatch_uid="reports_llm_call_deleted")
def llm_call_deleted(sender: Any, instance: LLMCall, **kwargs: Any) -> None:
    rollups_mark_stale(tenant_id=instance.tenant_id, moment=instance.created_at)
