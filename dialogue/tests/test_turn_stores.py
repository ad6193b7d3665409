"""The TurnStore contract, held by each store: what `append` and `save_answer` read and
write is what the dialogue services and selectors read and write."""

import asyncio

import pytest
from django.utils import timezone

from dialogue import selectors, services
from dialogue.models import ChatSession, Message, Role, SessionStatus, SuggestionStatus
from dialogue.models import WorkOrderSuggestion as Suggestion
from dialogue.pipeline import IncomingMessage, SessionEnded, SessionNotFound, Turn
from dialogue.pipeline.values import (
    HISTORY_MESSAGES,
    AnswerDraft,
    Appended,
    Duplicate,
    Route,
    SearchRequest,
    TurnSettings,
)
from dialogue.tests.conftest import in_thread
from helpdesk.tenancy import tenant_scope
from workorders.services import workorder_create


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


async def append(store, tenant, session, content="新问题", *, search=None, **changes):
    incoming = IncomingMessage(
        tenant_id=tenant.pk,
        channel=session.channel,
        external_user_id=session.external_user_id,
        content=content,
        session_id=session.pk,
        **changes,
    )
    settings = await in_thread(TurnSettings.load)()
    return await store.append(incoming, content=content, settings=settings, search=search)


def scoped(tenant, read):
    def run():
        with tenant_scope(tenant):
            return read()

    return in_thread(run)()


async def test_append_saves_the_message_and_touches_the_session(store, tenant_a):
    def first_message():
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        services.message_add_user(session=session, content="一", channel_message_id="a")
        return session

    session = await scoped(tenant_a, first_message)

    appended = await append(store, tenant_a, session, "二", channel_message_id="b")

    assert isinstance(appended, Appended)
    assert appended.tenant == tenant_a and appended.session.pk == session.pk
    first, second = await scoped(
        tenant_a, lambda: list(Message.objects.filter(session=session).order_by("id"))
    )
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session.pk))
    assert second.pk == appended.message.pk and second.content == "二"
    assert second.channel_message_id == "b"
    skip = {"id", "content", "channel_message_id", "created_at"}
    fields = [f.attname for f in Message._meta.concrete_fields if f.attname not in skip]
    assert {f: getattr(second, f) for f in fields} == {f: getattr(first, f) for f in fields}
    assert session.message_count == 2 and session.last_activity_at == second.created_at
    assert appended.session.message_count == 2


async def test_append_reads_the_context_the_selectors_read(store, tenant_a, tenant_b):
    def suggestions():
        work_order = workorder_create(title="退款")
        for content, status in [
            ("建议一", SuggestionStatus.DRAFT),
            ("被拒绝", SuggestionStatus.REJECTED),
            ("建议二", SuggestionStatus.APPROVED),
        ]:
            Suggestion.objects.create(work_order=work_order, content=content, status=status)
        Suggestion.objects.create(work_order=workorder_create(title="发票"), content="别的工单")
        return work_order

    work_order = await scoped(tenant_a, suggestions)
    session = await in_thread(conversation)(tenant_a, "visitor-1", work_order=work_order)
    await in_thread(conversation)(tenant_a, "visitor-2")
    await in_thread(conversation)(tenant_b, "visitor-1")

    appended = await append(store, tenant_a, session)

    def expected():
        return (
            list(
                selectors.recent_history(session, before=appended.message, limit=HISTORY_MESSAGES)
            ),
            list(selectors.work_order_suggestion_texts(session)),
        )

    history, suggestion_texts = await scoped(tenant_a, expected)
    assert appended.history == history and len(history) == 6
    assert ("agent", "人工回复") in appended.history
    assert ("system", "系统通知") not in appended.history
    assert appended.suggestions == suggestion_texts == ["建议二", "建议一"]


async def test_the_hits_are_the_tenants_active_entries(store, tenant_a, tenant_b, make_entry):
    def entries():
        kept = make_entry("如何申请退款？", "在订单详情页申请。")
        gone = make_entry("退款申请被拒绝怎么办？", "联系客服。")
        gone.is_active = False
        gone.save()
        return kept

    kept = await scoped(tenant_a, entries)
    await scoped(tenant_b, lambda: make_entry("如何申请退款？", "乙公司的答案。"))
    session = await in_thread(conversation)(tenant_a, "visitor-1")
    search = SearchRequest("怎么申请退款", limit=3)

    first = await append(store, tenant_a, session, search=search)
    again = await append(store, tenant_a, session, search=search)

    for appended in (first, again):  # the second from the search cache
        assert [hit.entry.pk for hit in appended.hits] == [kept.pk]
        assert appended.hits[0].entry.answer == "在订单详情页申请。"


@pytest.mark.parametrize(
    ("visitor_id", "tenant_active", "status", "refusal"),
    [
        ("visitor-2", True, SessionStatus.ACTIVE, SessionNotFound),
        ("visitor-1", False, SessionStatus.ACTIVE, SessionNotFound),
        ("visitor-1", True, SessionStatus.ENDED, SessionEnded),
    ],
)
async def test_append_refuses_without_writing(
    store, tenant_a, visitor_id, tenant_active, status, refusal
):
    def open_session():
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        ChatSession.objects.filter(pk=session.pk).update(status=status)
        return session

    session = await scoped(tenant_a, open_session)
    tenant_a.is_active = tenant_active
    await in_thread(tenant_a.save)()
    session.external_user_id = visitor_id

    with pytest.raises(refusal):
        await append(store, tenant_a, session, "你好")

    assert not await scoped(tenant_a, Message.objects.exists)
    saved = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session.pk))
    assert saved.message_count == 0


async def test_append_to_a_handed_off_session_reads_no_context(store, tenant_a, make_entry):
    await scoped(tenant_a, lambda: make_entry("如何申请退款？", "在订单详情页申请。"))
    session = await in_thread(conversation)(tenant_a, "visitor-1")
    await scoped(tenant_a, lambda: services.session_handoff(session=session, reason="request"))

    appended = await append(store, tenant_a, session, search=SearchRequest("退款", limit=3))

    assert appended.session.status == SessionStatus.HANDED_OFF
    assert appended.hits == [] and appended.message.pk


async def test_a_known_message_id_gives_the_original_without_writing(store, tenant_a):
    session = await in_thread(conversation)(tenant_a, "visitor-1")
    first = await append(store, tenant_a, session, channel_message_id="m")

    again = await append(store, tenant_a, session, channel_message_id="m")

    assert isinstance(again, Duplicate)
    assert again.original.pk == first.message.pk and again.answer is None
    assert (
        await scoped(tenant_a, lambda: Message.objects.filter(channel_message_id="m").count()) == 1
    )


def turn_for(tenant, session, question, settings) -> Turn:
    return Turn(
        incoming=IncomingMessage(tenant.pk, session.channel, session.external_user_id, "问"),
        settings=settings,
        tenant=tenant,
        session=session,
        user_message=question,
        route=Route.ANSWER,
    )


async def test_save_answer_writes_what_the_services_write(store, tenant_a, make_entry):
    def setup():
        cited = make_entry("问一", "答一")
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        question = services.message_add_user(session=session, content="问")
        by_services = services.message_add_answer(
            session=session, reply_to=question, content="答", low_confidence=True
        )
        return cited, ChatSession.objects.get(pk=session.pk), question, by_services

    cited, session, question, by_services = await scoped(tenant_a, setup)
    settings = await in_thread(TurnSettings.load)()
    turn = turn_for(tenant_a, session, question, settings)
    draft = AnswerDraft(content="答 [1]", citations=[cited.pk], low_confidence=True)

    with tenant_scope(tenant_a):
        answer, streak = await store.save_answer(turn, draft)
        failed, unchanged = await store.save_answer(
            turn, AnswerDraft(content="抱歉", error_type="timeout")
        )

    saved = await scoped(tenant_a, lambda: Message.objects.get(pk=answer.pk))
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=session.pk))
    cited = await scoped(tenant_a, lambda: type(cited).objects.get(pk=cited.pk))
    skip = {"id", "content", "citations", "created_at"}
    names = [f.attname for f in Message._meta.concrete_fields if f.attname not in skip]
    assert {n: getattr(saved, n) for n in names} == {n: getattr(by_services, n) for n in names}
    assert (saved.content, saved.citations) == ("答 [1]", [cited.pk])
    assert streak == unchanged == session.low_confidence_streak == 2
    assert session.message_count == 4 and session.last_activity_at == failed.created_at
    assert cited.usage_count == 1 and cited.last_used_at == saved.created_at


async def test_concurrent_low_confidence_answers_both_count(store, tenant_a):
    def setup():
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        questions = [services.message_add_user(session=session, content=c) for c in "一二"]
        return [(ChatSession.objects.get(pk=session.pk), q) for q in questions]

    stale = await scoped(tenant_a, setup)
    settings = await in_thread(TurnSettings.load)()
    turns = [turn_for(tenant_a, session, question, settings) for session, question in stale]
    low = AnswerDraft(content="不确定", low_confidence=True, confidence=0.1)

    with tenant_scope(tenant_a):
        saved = await asyncio.gather(*(store.save_answer(turn, low) for turn in turns))

    assert sorted(streak for _answer, streak in saved) == [1, 2]
    session = await scoped(tenant_a, lambda: ChatSession.objects.get(pk=turns[0].session.pk))
    assert session.low_confidence_streak == 2
    assert session.last_activity_at <= timezone.now()
