"""The fast path's hand-written SQL reads and writes the same rows as the ORM's path."""

import asyncio
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dialogue import pipeline, services, turn_store
from dialogue.models import ChatSession, Message, Role, SuggestionStatus, WorkOrderSuggestion
from helpdesk import async_db
from helpdesk.tenancy import tenant_scope
from workorders.services import workorder_create

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="The fast path's SQL is for PostgreSQL."
)


def run(coroutine):
    async def with_pool():
        try:
            return await coroutine
        finally:
            await async_db.close_pool()

    return asyncio.run(with_pool())


def conversation(tenant, visitor_id: str, *, work_order=None) -> ChatSession:
    with tenant_scope(tenant):
        session = services.session_open(
            channel="web", external_user_id=visitor_id, work_order=work_order
        )[0]
        for content in ("问题一", "问题二"):
            question = services.message_add_user(session=session, content=content)
            services.message_add_answer(session=session, reply_to=question, content="回答")
        failed = services.message_add_user(session=session, content="超时的问题")
        services.message_add_answer(
            session=session, reply_to=failed, content="抱歉", error_type="LLMTimeout"
        )
        Message.objects.create(session=session, role=Role.AGENT, content="人工回复")
        Message.objects.create(session=session, role=Role.SYSTEM, content="系统通知")
        return session


def append(tenant, session: ChatSession, content: str, **changes):
    options = {
        "tenant_id": tenant.pk,
        "session_id": session.pk,
        "visitor_id": session.external_user_id,
        "content": content,
        "channel_message_id": "",
        "idle_since": timezone.now() - timedelta(minutes=30),
        "history_limit": pipeline.HISTORY_MESSAGES,
        "entry_ids": [],
        **changes,
    }
    return run(turn_store.append_user_message(**options))


def test_the_context_matches_the_orm_querysets(transactional_db, tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        work_order = workorder_create(title="退款")
        for content, status in [
            ("建议一", SuggestionStatus.DRAFT),
            ("被拒绝", SuggestionStatus.REJECTED),
            ("建议二", SuggestionStatus.APPROVED),
        ]:
            WorkOrderSuggestion.objects.create(
                work_order=work_order, content=content, status=status
            )
        other_order = workorder_create(title="发票")
        WorkOrderSuggestion.objects.create(work_order=other_order, content="别的工单")
    session = conversation(tenant_a, "visitor-1", work_order=work_order)
    conversation(tenant_a, "visitor-2")
    conversation(tenant_b, "visitor-1")

    appended = append(tenant_a, session, "新问题")

    with tenant_scope(tenant_a):
        turn = pipeline.Turn(tenant=tenant_a, session=session, user_message=appended.message)
        expected_history = list(pipeline.history_queryset(turn))
        expected_suggestions = list(pipeline.suggestions_queryset(session))
    assert appended.history == expected_history
    assert ("agent", "人工回复") in appended.history
    assert len(appended.history) == 6
    assert appended.suggestions == expected_suggestions == ["建议二", "建议一"]


def test_a_session_without_work_order_has_no_suggestions(transactional_db, tenant_a):
    with tenant_scope(tenant_a):
        WorkOrderSuggestion.objects.create(
            work_order=workorder_create(title="退款"), content="建议"
        )
    session = conversation(tenant_a, "visitor-1")

    appended = append(tenant_a, session, "新问题", history_limit=2)

    assert appended.suggestions == []
    assert appended.history == [("agent", "人工回复"), ("user", "超时的问题")]


def test_the_context_holds_only_the_tenants_active_entries(
    transactional_db, tenant_a, tenant_b, make_entry
):
    with tenant_scope(tenant_a):
        kept, gone = make_entry("问一", "答一"), make_entry("问二", "答二")
        gone.is_active = False
        gone.save()
    with tenant_scope(tenant_b):
        other = make_entry("问三", "答三")
    session = conversation(tenant_a, "visitor-1")

    appended = append(tenant_a, session, "问", entry_ids=[kept.pk, gone.pk, other.pk])

    entries = appended.entries
    assert list(entries) == [kept.pk]
    assert (entries[kept.pk].question, entries[kept.pk].answer) == ("问一", "答一")


def test_append_writes_what_the_orm_writes(transactional_db, tenant_a):
    with tenant_scope(tenant_a):
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        services.message_add_user(session=session, content="一", channel_message_id="a")

    appended = append(tenant_a, session, "二", channel_message_id="b")

    assert appended.tenant == tenant_a and appended.session.pk == session.pk
    with tenant_scope(tenant_a):
        first, second = Message.objects.filter(session=session).order_by("id")
        session.refresh_from_db()
    assert second.pk == appended.message.pk
    skip = {"id", "content", "channel_message_id", "created_at"}
    fields = [f.attname for f in Message._meta.concrete_fields if f.attname not in skip]
    assert {f: getattr(second, f) for f in fields} == {f: getattr(first, f) for f in fields}
    assert session.message_count == 2 and session.last_activity_at == second.created_at
    assert appended.session.message_count == 2


@pytest.mark.parametrize(
    ("visitor_id", "tenant_active", "status", "idle"),
    [
        ("visitor-2", True, "active", False),
        ("visitor-1", False, "active", False),
        ("visitor-1", True, "handed_off", False),
        ("visitor-1", True, "ended", False),
        ("visitor-1", True, "active", True),
    ],
)
def test_append_refuses_sessions_the_full_path_must_handle(
    transactional_db, tenant_a, visitor_id, tenant_active, status, idle
):
    with tenant_scope(tenant_a):
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        ChatSession.objects.filter(pk=session.pk).update(status=status)
    tenant_a.is_active = tenant_active
    tenant_a.save()
    idle_since = timezone.now() + timedelta(seconds=1 if idle else -60)

    appended = append(tenant_a, session, "你好", visitor_id=visitor_id, idle_since=idle_since)

    assert appended is None
    with tenant_scope(tenant_a):
        assert not Message.objects.exists()
        assert ChatSession.objects.get(pk=session.pk).message_count == 0


def test_add_answer_writes_what_the_services_write(transactional_db, tenant_a, make_entry):
    with tenant_scope(tenant_a):
        cited = make_entry("问一", "答一")
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        question = services.message_add_user(session=session, content="问")
        by_orm = services.message_add_answer(
            session=session, reply_to=question, content="答", low_confidence=True, citations=[]
        )
        session.refresh_from_db()
    fields = {"content": "答 [1]", "citations": [cited.pk], "low_confidence": True}
    answer = Message(
        tenant_id=tenant_a.pk, session=session, reply_to=question, role=Role.ASSISTANT, **fields
    )

    streak = run(turn_store.add_answer(answer))

    with tenant_scope(tenant_a):
        saved = Message.objects.get(pk=answer.pk)
        session.refresh_from_db()
        cited.refresh_from_db()
    skip = {"id", "content", "citations", "created_at"}
    names = [f.attname for f in Message._meta.concrete_fields if f.attname not in skip]
    assert {n: getattr(saved, n) for n in names} == {n: getattr(by_orm, n) for n in names}
    assert (saved.content, saved.citations) == ("答 [1]", [cited.pk])
    assert streak == session.low_confidence_streak == 2
    assert session.message_count == 3 and session.last_activity_at == saved.created_at
    assert cited.usage_count == 1 and cited.last_used_at == saved.created_at

    failed = Message(
        tenant_id=tenant_a.pk,
        session=session,
        reply_to=question,
        role=Role.ASSISTANT,
        content="抱歉",
        error_type="LLMTimeout",
    )
    assert run(turn_store.add_answer(failed)) == 2
