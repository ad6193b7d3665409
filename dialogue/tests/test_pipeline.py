"""The MessagePipeline against the local LLM server over real HTTP, with each turn store.

Every test runs once with the ORM store and once with the native store (PostgreSQL and
Redis only), so the two cannot drift apart.
"""

import asyncio
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from dialogue import pipeline, services
from dialogue.models import ChatSession, HandoffReason, Message, Role, SessionStatus
from dialogue.pipeline import admission as admission_module
from dialogue.pipeline.admission import count_visitor_request
from dialogue.pipeline.turns import _producers
from dialogue.tests.conftest import in_thread
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import free_port
from llm.models import LLMCall
from workorders.models import WorkOrder, WorkOrderEvent


def incoming(tenant, content, *, user="u1", channel="web", message_id="", session_id=None):
    return pipeline.IncomingMessage(
        tenant_id=tenant.pk,
        channel=channel,
        external_user_id=user,
        content=content,
        channel_message_id=message_id,
        session_id=session_id,
    )


async def ask(store, tenant, content, **options) -> pipeline.Reply:
    return await pipeline.answer(incoming(tenant, content, **options), store=store)


async def collect(store, tenant, content, *, pause: float = 0, **options) -> list:
    turn = await pipeline.prepare(incoming(tenant, content, **options), store=store)
    items = []
    async for item in pipeline.stream(turn, store=store):
        items.append(item)
        await asyncio.sleep(pause)
    return items


def in_scope(tenant, read):
    """`read()` in the tenant's scope, from async code (through a worker thread)."""

    def scoped():
        with tenant_scope(tenant):
            return read()

    return in_thread(scoped)()


async def test_answer_cites_knowledge_and_records_everything(store, tenant_a, llm, refund_entries):
    reply = await ask(store, tenant_a, "我想申请退款，怎么操作？")
    answer = reply.answer
    assert answer.role == Role.ASSISTANT
    assert answer.content.startswith("Stub answer")
    assert answer.citations and set(answer.citations) <= {e.pk for e in refund_entries}
    assert 0 < answer.confidence <= 1
    assert answer.prompt_tokens > 0 and answer.completion_tokens == 12
    assert answer.latency_ms is not None and answer.llm_call_id
    assert answer.reply_to_id == reply.user_message.pk
    # The customer's message was saved before the answer.
    assert reply.user_message.pk < answer.pk
    prompt = llm.requests()[-1]["messages"]
    assert prompt[0]["role"] == "system" and "[1] 问：" in prompt[0]["content"]
    assert prompt[-1] == {"role": "user", "content": "我想申请退款，怎么操作？"}
    call = await in_scope(tenant_a, lambda: LLMCall.objects.get(purpose="chat"))
    assert str(call.pk) == answer.llm_call_id
    uses = await in_scope(
        tenant_a, lambda: {e.pk: type(e).objects.get(pk=e.pk).usage_count for e in refund_entries}
    )
    assert {pk: uses[pk] for pk in answer.citations} == dict.fromkeys(answer.citations, 1)


@pytest.mark.parametrize("content", ["", "   ", None, "长" * 2001])
async def test_invalid_messages_are_refused_and_nothing_is_saved(store, tenant_a, llm, content):
    with pytest.raises(pipeline.InvalidMessage):
        await ask(store, tenant_a, content)
    assert await in_thread(Message.all_tenants.count)() == 0
    assert await in_thread(ChatSession.all_tenants.count)() == 0
    assert llm.stats()["requests"] == 0


async def test_a_resent_message_id_returns_the_original_answer(
    store, tenant_a, llm, refund_entries
):
    first = await ask(store, tenant_a, "退款多久到账？", message_id="m-1")
    session_id = first.session.pk
    again = await ask(store, tenant_a, "退款多久到账？", message_id="m-1", session_id=session_id)
    assert again.duplicate and not first.duplicate
    assert again.answer.pk == first.answer.pk and again.user_message.pk == first.user_message.pk
    assert first.titles and again.titles == first.titles  # the cited entries' questions
    assert llm.stats()["requests"] == 1
    users = await in_scope(tenant_a, lambda: Message.objects.filter(role=Role.USER).count())
    assert users == 1


async def test_a_resent_message_id_still_being_answered_is_refused_with_the_original(
    store, tenant_a, llm
):
    def in_flight():
        session = services.session_open(channel="web", external_user_id="u1")[0]
        return services.message_add_user(session=session, content="你好", channel_message_id="m")

    original = await in_scope(tenant_a, in_flight)
    with pytest.raises(pipeline.DuplicateInFlight) as refused:
        await ask(store, tenant_a, "你好", message_id="m", session_id=original.session_id)
    assert refused.value.original_id == original.pk
    assert llm.stats()["requests"] == 0


async def test_the_same_message_id_of_another_customer_is_not_a_duplicate(store, tenant_a, llm):
    await ask(store, tenant_a, "你好", user="u1", message_id="same")
    other = await ask(store, tenant_a, "你好", user="u2", message_id="same")
    assert not other.duplicate and other.session.external_user_id == "u2"


async def test_an_idle_session_is_ended_and_a_new_one_started(store, tenant_a, llm):
    first = await ask(store, tenant_a, "你好")
    await in_scope(
        tenant_a,
        lambda: ChatSession.objects.filter(pk=first.session.pk).update(
            last_activity_at=timezone.now() - timedelta(minutes=31)
        ),
    )
    second = await ask(store, tenant_a, "还在吗", session_id=first.session.pk)
    assert second.session.pk != first.session.pk
    old = await in_scope(tenant_a, lambda: ChatSession.objects.get(pk=first.session.pk))
    assert old.status == SessionStatus.ENDED and old.end_reason == "idle"


async def test_another_customers_session_is_not_found(store, tenant_a, tenant_b, llm):
    mine = await ask(store, tenant_a, "你好", user="u1")
    with pytest.raises(pipeline.SessionNotFound):
        await ask(store, tenant_a, "我也要", user="u2", session_id=mine.session.pk)
    with pytest.raises(pipeline.SessionNotFound):
        await ask(store, tenant_b, "我也要", user="u1", session_id=mine.session.pk)
    assert await in_scope(tenant_a, lambda: Message.objects.filter(role=Role.USER).count()) == 1


async def test_history_and_the_tenants_prompt_go_into_the_prompt(store, tenant_a, llm):
    tenant_a.settings = {"system_prompt": "你是甲公司的客服小甲。"}
    await in_thread(tenant_a.save)()
    first = await ask(store, tenant_a, "第一个问题")
    await ask(store, tenant_a, "第二个问题", session_id=first.session.pk)
    # The second low-confidence answer hands off: the hand-off summary's request follows.
    messages = next(r for r in llm.requests() if r["messages"][-1]["content"] == "第二个问题")[
        "messages"
    ]
    assert messages[0]["content"].startswith("你是甲公司的客服小甲。")
    assert [m["role"] for m in messages[1:]] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "第一个问题"


async def test_history_respects_the_token_budget(store, tenant_a, llm):
    get_config().set("dialogue.history_token_budget", 30)
    first = await ask(store, tenant_a, "很" * 40)
    await ask(store, tenant_a, "短问题", session_id=first.session.pk)
    messages = llm.requests()[-1]["messages"]
    assert all(m["content"] != "很" * 40 for m in messages)


async def test_knowledge_only_mode_answers_from_a_verified_entry(store, tenant_a, refund_entries):
    reply = await ask(store, tenant_a, "如何申请退款")
    assert reply.answer.kb_only
    assert reply.answer.citations == [refund_entries[0].pk]
    assert "在订单详情页" in reply.answer.content and "[1]" in reply.answer.content


async def test_knowledge_only_mode_without_an_answer_offers_a_person(store, tenant_a, make_entry):
    await in_scope(
        tenant_a, lambda: make_entry("发票怎么开？", "在订单页申请电子发票。", verified=False)
    )
    reply = await ask(store, tenant_a, "量子纠缠是什么")
    assert reply.answer.kb_only and reply.answer.citations == []
    assert "转人工" in reply.answer.content
    assert reply.answer.low_confidence


async def shipping_and_refund_entries(tenant, make_entry):
    def make():
        return [
            make_entry("如何申请退款？", "在订单详情页点击“申请退款”。"),
            make_entry("退款多久到账？", "退款审核通过后 1-3 个工作日到账。"),
            make_entry("发货多久能到？", "发货后一般 2-4 天送达。"),
        ]

    return await in_scope(tenant, make)


async def test_a_follow_up_question_is_searched_with_the_previous_one(store, tenant_a, make_entry):
    _apply, refund_time, _shipping = await shipping_and_refund_entries(tenant_a, make_entry)
    first = await ask(store, tenant_a, "我想退款")

    reply = await ask(store, tenant_a, "那要多久？", session_id=first.session.pk)

    assert reply.answer.citations == [refund_time.pk]
    assert "1-3 个工作日到账" in reply.answer.content


async def test_a_follow_up_is_rewritten_by_the_llm_before_the_search(
    store, tenant_a, llm, make_entry
):
    _apply, refund_time, shipping = await shipping_and_refund_entries(tenant_a, make_entry)
    first = await ask(store, tenant_a, "我想退款")

    await ask(store, tenant_a, "那要多久？", session_id=first.session.pk)

    rewrite, answer = llm.requests()[-2:]
    assert "我想退款" in rewrite["messages"][-1]["content"]
    prompt = answer["messages"][0]["content"]
    assert refund_time.answer in prompt and shipping.answer not in prompt
    purposes = await in_scope(
        tenant_a, lambda: list(LLMCall.objects.order_by("id").values_list("purpose", flat=True))
    )
    assert purposes[-2:] == ["query_rewrite", "chat"]


async def test_a_follow_up_is_rewritten_when_its_answer_streams_not_while_preparing(
    store, tenant_a, llm, make_entry
):
    """An entry point may cap how many turns it prepares at once: the rewrite, which waits
    for the LLM, must not hold such a place."""
    _apply, refund_time, shipping = await shipping_and_refund_entries(tenant_a, make_entry)
    first = await ask(store, tenant_a, "我想退款")
    asked = len(llm.requests())

    turn = await pipeline.prepare(
        incoming(tenant_a, "那要多久？", session_id=first.session.pk), store=store
    )

    assert len(llm.requests()) == asked and turn.rewrite is not None and turn.prompt == []
    items = [item async for item in pipeline.stream(turn, store=store)]
    rewrite, answer = llm.requests()[asked:]
    assert "我想退款" in rewrite["messages"][-1]["content"]
    prompt = answer["messages"][0]["content"]
    assert refund_time.answer in prompt and shipping.answer not in prompt
    assert refund_time.pk in items[-1].answer.citations


async def test_a_question_that_stands_on_its_own_is_searched_as_it_is(
    store, tenant_a, llm, make_entry
):
    _apply, _refund_time, shipping = await shipping_and_refund_entries(tenant_a, make_entry)
    first = await ask(store, tenant_a, "我想退款")
    calls_before = len(llm.requests())

    reply = await ask(store, tenant_a, "发货以后多久能送到我家？", session_id=first.session.pk)

    assert len(llm.requests()) == calls_before + 1
    assert shipping.answer in llm.requests()[-1]["messages"][0]["content"]
    assert reply.answer.content


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [("500", "provider_error"), ("429", "rate_limited"), ("hang", "timeout")],
)
async def test_llm_faults_give_a_fallback_and_keep_the_message(
    store, tenant_a, llm, fault, error_type
):
    get_config().set("llm.timeout_seconds", 0.5)
    llm.queue_faults(fault)
    reply = await ask(store, tenant_a, "你好")
    assert reply.answer.error_type == error_type
    assert "转人工" in reply.answer.content
    assert reply.user_message.pk is not None
    call = await in_scope(tenant_a, LLMCall.objects.get)
    assert call.outcome != "ok" and reply.answer.llm_call_id == str(call.pk)


async def test_the_handoff_keyword_opens_a_work_order_and_silences_the_assistant(
    store, tenant_a, llm
):
    first = await ask(store, tenant_a, "我的车机无法升级")
    reply = await ask(store, tenant_a, "转人工", session_id=first.session.pk)
    assert reply.handed_off and reply.answer.role == Role.SYSTEM
    session = reply.session
    assert session.handoff_reason == HandoffReason.KEYWORD
    work_order = await in_scope(tenant_a, lambda: WorkOrder.objects.get(pk=session.work_order_id))
    assert work_order.source == "chat"
    assert "我的车机无法升级" in work_order.title
    assert "客户：我的车机无法升级" in work_order.description
    assert work_order.number in reply.answer.content
    requests_before = llm.stats()["requests"]
    later = await ask(store, tenant_a, "请尽快处理", session_id=session.pk)
    assert later.answer is None and later.session.pk == session.pk and later.handed_off
    assert llm.stats()["requests"] == requests_before
    forwarded = await in_scope(
        tenant_a,
        lambda: WorkOrderEvent.objects.filter(
            work_order=work_order, kind="comment", body__contains="请尽快处理"
        ).exists(),
    )
    assert forwarded


async def test_repeated_low_confidence_hands_off(store, tenant_a, llm):
    # No knowledge at all: every answer has confidence 0.
    first = await ask(store, tenant_a, "问题一")
    assert first.answer.low_confidence and not first.handed_off
    second = await ask(store, tenant_a, "问题二", session_id=first.session.pk)
    assert second.handed_off
    assert second.session.handoff_reason == HandoffReason.LOW_CONFIDENCE
    assert second.session.work_order.number in second.answer.content
    saved = await in_scope(tenant_a, lambda: Message.objects.get(pk=second.answer.pk))
    assert saved.content == second.answer.content


async def test_an_ended_session_refuses_messages(store, tenant_a, llm):
    reply = await ask(store, tenant_a, "你好")
    await in_scope(tenant_a, lambda: services.session_end(session=reply.session))
    with pytest.raises(pipeline.SessionEnded):
        await ask(store, tenant_a, "还在吗", session_id=reply.session.pk)


async def test_sessions_of_two_tenants_stay_apart(store, tenant_a, tenant_b, llm):
    a = await ask(store, tenant_a, "你好", user="same-user")
    b = await ask(store, tenant_b, "你好", user="same-user")
    assert a.session.pk != b.session.pk
    assert a.session.tenant_id == tenant_a.pk and b.session.tenant_id == tenant_b.pk
    assert await in_scope(tenant_b, Message.objects.count) == 2


async def test_an_inactive_tenant_is_refused(store, tenant_a, llm):
    tenant_a.is_active = False
    await in_thread(tenant_a.save)()
    with pytest.raises(pipeline.SessionNotFound):
        await ask(store, tenant_a, "你好")


async def test_a_stream_yields_deltas_then_the_saved_reply(store, tenant_a, llm, refund_entries):
    items = await collect(store, tenant_a, "退款多久到账")
    deltas = [i.text for i in items if isinstance(i, pipeline.Delta)]
    reply = items[-1]
    assert isinstance(reply, pipeline.Reply)
    assert "".join(deltas) == reply.answer.content
    assert reply.answer.first_token_ms is not None and reply.answer.citations


async def test_a_broken_stream_gives_a_fallback(store, tenant_a, llm):
    llm.queue_faults("broken_stream")
    items = await collect(store, tenant_a, "你好")
    reply = items[-1]
    assert reply.answer.error_type == "bad_response"
    assert "".join(i.text for i in items[:-1]) == reply.answer.content


async def test_a_stream_without_a_first_token_in_time_gives_a_fallback(store, tenant_a, llm):
    get_config().set("llm.first_token_timeout_seconds", 0.3)
    llm.queue_faults("timeout_first_token")
    reply = (await collect(store, tenant_a, "你好"))[-1]
    assert reply.answer.error_type == "timeout"


async def test_a_slow_consumer_gets_the_queued_tokens_in_one_delta(store, tenant_a, llm):
    llm.configure(tokens=30, token_delay_ms=2)
    items = await collect(store, tenant_a, "你好", pause=0.03)
    deltas = [item.text for item in items if isinstance(item, pipeline.Delta)]
    reply = items[-1]
    assert 1 < len(deltas) < 30
    assert "".join(deltas) == reply.text
    assert reply.answer.completion_tokens == 30


async def test_a_consumer_leaving_the_stream_keeps_the_partial_answer(store, tenant_a, llm):
    llm.configure(token_delay_ms=20, tokens=30)
    turn = await pipeline.prepare(incoming(tenant_a, "你好"), store=store)
    stream = pipeline.stream(turn, store=store)
    first = await anext(stream)
    await stream.aclose()
    for _ in range(100):
        if not _producers:
            break
        await asyncio.sleep(0.02)
    assert isinstance(first, pipeline.Delta)
    answer = await in_scope(tenant_a, lambda: Message.objects.get(role=Role.ASSISTANT))
    assert answer.error_type == "client_disconnected"
    assert answer.content and first.text.startswith(answer.content[: len(first.text)])
    call = await in_scope(tenant_a, LLMCall.objects.get)
    assert call.outcome == "cancelled"


async def test_visitor_admission_refuses_past_the_limit_before_saving(
    store, tenant_a, llm, whole_minute
):
    get_config().set("dialogue.visitor_rate_per_minute", 2)
    for content in ("一", "二"):
        await pipeline.answer(
            incoming(tenant_a, content), store=store, admission=pipeline.VisitorRateAdmission()
        )
    admission = pipeline.VisitorRateAdmission()
    with pytest.raises(pipeline.TooManyRequests):
        await pipeline.answer(incoming(tenant_a, "三"), store=store, admission=admission)
    assert admission.count == 3
    assert await in_scope(tenant_a, lambda: Message.objects.filter(role=Role.USER).count()) == 2


async def test_with_the_cache_down_the_message_is_kept_and_answered(
    store, tenant_a, llm, refund_entries, settings
):
    settings.CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.SharedClientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    admission = pipeline.VisitorRateAdmission()
    reply = await pipeline.answer(
        incoming(tenant_a, "退款多久到账", message_id="m1"), store=store, admission=admission
    )
    assert admission.count == 1  # counted in the process's memory, and admitted
    assert reply.answer.content.startswith("Stub answer") and not reply.answer.error_type
    again = await pipeline.answer(
        incoming(tenant_a, "退款多久到账", message_id="m1", session_id=reply.session.pk),
        store=store,
    )
    assert again.duplicate and again.answer.pk == reply.answer.pk
    assert await in_scope(tenant_a, lambda: Message.objects.filter(role=Role.USER).count()) == 1


async def test_with_the_cache_down_the_visitor_is_counted_off_the_event_loop(
    tenant_a, settings, monkeypatch
):
    settings.CACHES = {
        "default": {
            "BACKEND": "helpdesk.cache.SharedClientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    threads = []

    def counting(tenant_id, visitor_id):
        threads.append(threading.get_ident())
        return count_visitor_request(tenant_id, visitor_id)

    monkeypatch.setattr(admission_module, "count_visitor_request", counting)
    assert await admission_module.acount_visitor_request(tenant_a.pk, "visitor-1") == 1
    assert threads and threading.get_ident() not in threads


async def test_a_spent_budget_with_the_hard_stop_answers_from_the_knowledge_base(
    store, tenant_a, llm, refund_entries
):
    get_config().set("budget.tenants", {tenant_a.slug: {"monthly_tokens": 10, "hard_stop": True}})
    first = await ask(store, tenant_a, "退款多久到账")
    assert not first.answer.kb_only and first.answer.prompt_tokens > 10
    second = await ask(store, tenant_a, "如何申请退款", session_id=first.session.pk)
    assert second.answer.kb_only and second.answer.citations == [refund_entries[0].pk]
    assert llm.stats()["requests"] == 1
