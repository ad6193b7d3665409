"""Report fixtures: conversations, answers, LLM calls and work orders at chosen moments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dialogue.models import ChatSession, Message
from helpdesk.tenancy import tenant_scope
from llm.models import LLMCall
from workorders.models import WorkOrder
from workorders.services import workorder_create

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    """A moment written as local time, "2026-11-10 23:59"."""
    return datetime.fromisoformat(text).replace(tzinfo=zone)


@pytest.fixture
def make_session(db) -> Callable[..., ChatSession]:
    """A conversation started at `started`, with (role, minute offset, fields) messages."""

    def make(tenant, started: datetime, *, messages=(), **fields) -> ChatSession:
        with tenant_scope(tenant):
            session = ChatSession.objects.create(
                channel="web",
                external_user_id=f"v-{ChatSession.all_tenants.count()}",
                status=fields.pop("status", "ended"),
                **fields,
            )
            previous = None
            for role, moment, extra in messages:
                message = Message.objects.create(
                    session=session,
                    role=role,
                    content=extra.pop("content", f"{role} message"),
                    reply_to=previous if role == "assistant" else None,
                    **extra,
                )
                Message.objects.filter(pk=message.pk).update(created_at=moment)
                previous = message
            ChatSession.objects.filter(pk=session.pk).update(
                started_at=started, message_count=len(messages)
            )
            session.refresh_from_db()
            return session

    return make


@pytest.fixture
def make_call(db) -> Callable[..., LLMCall]:
    def make(tenant, moment: datetime, **fields) -> LLMCall:
        fields.setdefault("purpose", "chat")
        fields.setdefault("model", "qwen-plus")
        fields.setdefault("latency_ms", 100)
        fields.setdefault("outcome", "ok")
        fields.setdefault("cost", Decimal("0.010000"))
        with tenant_scope(tenant):
            return LLMCall.objects.create(created_at=moment, **fields)

    return make


@pytest.fixture
def make_order(db) -> Callable[..., WorkOrder]:
    """A work order created at `created`, with other times set directly."""

    def make(tenant, created: datetime, **times) -> WorkOrder:
        fields = {k: times.pop(k) for k in list(times) if k not in WORK_ORDER_TIMES}
        fields.setdefault("title", "刹车异响")
        with tenant_scope(tenant):
            order = workorder_create(**fields)
            WorkOrder.objects.filter(pk=order.pk).update(created_at=created, **times)
            order.refresh_from_db()
            return order

    return make


WORK_ORDER_TIMES = {"due_at", "resolved_at", "closed_at", "first_response_at", "status"}
