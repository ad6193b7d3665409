"""The MessagePipeline against the local LLM server over real HTTP."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from dialogue import pipeline
from dialogue.models import ChatSession, HandoffReason, Message, Role, SessionStatus
from helpdesk.config import get_config
from llm.models import LLMCall

pytestmark = pytest.mark.django_db


def ask(tenant, content, *, user="u1", channel="web", message_id="", session=None):
    return pipeline.handle_message(
        tenant=tenant,
        content=content,
        channel=channel,
        external_user_id=user,
        channel_message_id=message_id,
        session=session,
    )


def test_answer_cites_knowledge_and_records_everything(tenant_a, llm, refund_entries):
    reply = ask(tenant_a, "我想申请退款，怎么操作？")
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
    with_scope = LLMCall.all_tenants.filter(tenant=tenant_a, purpose="chat")
    assert with_scope.count() == 1


def test_confidence_formula():
    class Hit:
        def __init__(self, pk, score):
            self.entry = type("E", (), {"pk": pk})()
            self.score = score

    hits = [Hit(1, 0.9), Hit(2, 0.5)]
    assert pipeline.confidence_score(hits, [1]) == pytest.approx(0.9)
    assert pipeline.confidence_score(hits, [2]) == pytest.approx(0.74)
    assert pipeline.confidence_score(hits, []) == pytest.approx(0.54)
    assert pipeline.confidence_score([], []) == 0
    assert pipeline.cited_entry_ids("见 [2] 和 [1]，[9] 不存在 [2]", hits) == [2, 1]


@pytest.mark.parametrize("content", ["", "   ", None, "长" * 2001])
def test_invalid_messages_are_refused_and_nothing_is_saved(tenant_a, llm, content):
    with pytest.raises(pipeline.InvalidMessage):
        ask(tenant_a, content)
    assert Message.all_tenants.count() == 0
    assert ChatSession.all_tenants.count() == 0
    assert llm.stats()["requests"] == 0


def test_duplicate_message_id_returns_the_original_answer(tenant_a, llm, refund_entries):
    first = ask(tenant_a, "退款多久到账？", message_id="m-1")
    second = ask(tenant_a, "退款多久到账？", message_id="m-1")
    assert second.duplicate and not first.duplicate
    assert second.answer.pk == first.answer.pk
    assert llm.stats()["requests"] == 1
    with pipeline.tenant_scope(tenant_a):
        assert Message.objects.filter(role=Role.USER).count() == 1


def test_duplicate_found_in_database_when_cache_key_expired(tenant_a, llm, refund_entries):
    from django.core.cache import cache

    first = ask(tenant_a, "退款多久到账？", message_id="m-2")
    cache.clear()
    second = ask(tenant_a, "退款多久到账？", message_id="m-2")
    assert second.duplicate and second.answer.pk == first.answer.pk
    assert llm.stats()["requests"] == 1


def test_same_message_id_of_another_customer_is_not_a_duplicate(tenant_a, llm):
    ask(tenant_a, "你好", user="u1", message_id="same")
    other = ask(tenant_a, "你好", user="u2", message_id="same")
    assert not other.duplicate and other.session.external_user_id == "u2"


def test_idle_session_is_ended_and_a_new_one_started(tenant_a, llm):
    first = ask(tenant_a, "你好")
    with pipeline.tenant_scope(tenant_a):
        ChatSession.objects.filter(pk=first.session.pk).update(
            last_activity_at=timezone.now() - timedelta(minutes=31)
        )
    second = ask(tenant_a, "还在吗")
    assert second.session.pk != first.session.pk
    with pipeline.tenant_scope(tenant_a):
        old = ChatSession.objects.get(pk=first.session.pk)
    assert old.status == SessionStatus.ENDED and old.end_reason == "idle"


def test_history_and_tenant_prompt_go_into_the_prompt(tenant_a, llm):
    tenant_a.settings = {"system_prompt": "你是甲公司的客服小甲。"}
    tenant_a.save()
    ask(tenant_a, "第一个问题")
    ask(tenant_a, "第二个问题")
    messages = llm.requests()[-1]["messages"]
    assert messages[0]["content"].startswith("你是甲公司的客服小甲。")
    assert [m["role"] for m in messages[1:]] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "第一个问题"


def test_history_respects_the_token_budget(tenant_a, llm):
    get_config().set("dialogue.history_token_budget", 30)
    ask(tenant_a, "很" * 40)
    ask(tenant_a, "短问题")
    messages = llm.requests()[-1]["messages"]
    assert all(m["content"] != "很" * 40 for m in messages)


def test_knowledge_only_mode_answers_from_a_verified_entry(tenant_a, refund_entries):
    reply = ask(tenant_a, "如何申请退款")
    assert reply.answer.kb_only
    assert reply.answer.citations == [refund_entries[0].pk]
    assert "在订单详情页" in reply.answer.content and "[1]" in reply.answer.content


def test_knowledge_only_mode_without_an_answer_offers_a_person(tenant_a, scope_a, make_entry):
    make_entry("发票怎么开？", "在订单页申请电子发票。", verified=False)
    reply = ask(tenant_a, "量子纠缠是什么")
    assert reply.answer.kb_only and reply.answer.citations == []
    assert "转人工" in reply.answer.content
    assert reply.answer.low_confidence


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [("500", "provider_error"), ("429", "rate_limited"), ("hang", "timeout")],
)
def test_llm_faults_give_a_fallback_and_keep_the_message(tenant_a, llm, fault, error_type):
    get_config().set("llm.timeout_seconds", 0.5)
    llm.queue_faults(fault)
    reply = ask(tenant_a, "你好")
    assert reply.answer.error_type == error_type
    assert "转人工" in reply.answer.content
    assert reply.user_message.pk is not None
    with pipeline.tenant_scope(tenant_a):
        call = LLMCall.objects.get()
    assert call.outcome != "ok"


def test_handoff_keyword_opens_a_work_order_and_silences_the_assistant(tenant_a, llm):
    from workorders.models import WorkOrder, WorkOrderEvent

    ask(tenant_a, "我的车机无法升级")
    reply = ask(tenant_a, "转人工")
    assert reply.handed_off and reply.answer.role == Role.SYSTEM
    session = reply.session
    assert session.handoff_reason == HandoffReason.KEYWORD
    with pipeline.tenant_scope(tenant_a):
        work_order = WorkOrder.objects.get(pk=session.work_order_id)
        assert work_order.source == "chat"
        assert "我的车机无法升级" in work_order.title
        assert "客户：我的车机无法升级" in work_order.description
    requests_before = llm.stats()["requests"]
    later = ask(tenant_a, "请尽快处理")
    assert later.answer is None and later.session.pk == session.pk
    assert llm.stats()["requests"] == requests_before
    with pipeline.tenant_scope(tenant_a):
        assert WorkOrderEvent.objects.filter(
            work_order=work_order, kind="comment", body__contains="请尽快处理"
        ).exists()


def test_repeated_low_confidence_hands_off(tenant_a, llm):
    # No knowledge at all: every answer has confidence 0.
    first = ask(tenant_a, "问题一")
    assert first.answer.low_confidence and not first.handed_off
    second = ask(tenant_a, "问题二")
    assert second.handed_off
    assert second.session.handoff_reason == HandoffReason.LOW_CONFIDENCE
    assert "#" in second.answer.content


def test_ended_session_refuses_messages(tenant_a, llm):
    from dialogue.services import session_end

    reply = ask(tenant_a, "你好")
    with pipeline.tenant_scope(tenant_a):
        session_end(session=reply.session)
    with pytest.raises(pipeline.SessionEnded):
        ask(tenant_a, "还在吗", session=reply.session)


def test_sessions_of_two_tenants_stay_apart(tenant_a, tenant_b, llm):
    a = ask(tenant_a, "你好", user="same-user")
    b = ask(tenant_b, "你好", user="same-user")
    assert a.session.pk != b.session.pk
    assert a.session.tenant_id == tenant_a.pk and b.session.tenant_id == tenant_b.pk


def _collect(tenant, content, **kwargs):
    async def run():
        return [
            item
            async for item in pipeline.stream_message(
                tenant=tenant, content=content, channel="web", external_user_id="s1", **kwargs
            )
        ]

    return async_to_sync(run)()


def test_stream_yields_deltas_then_the_saved_reply(tenant_a, llm, refund_entries):
    items = _collect(tenant_a, "退款多久到账")
    deltas = [i.text for i in items if isinstance(i, pipeline.Delta)]
    reply = items[-1]
    assert isinstance(reply, pipeline.Reply)
    assert "".join(deltas) == reply.answer.content
    assert reply.answer.first_token_ms is not None and reply.answer.citations


def test_broken_stream_gives_a_fallback(tenant_a, llm):
    llm.queue_faults("broken_stream")
    items = _collect(tenant_a, "你好")
    reply = items[-1]
    assert reply.answer.error_type == "bad_response"
    assert "".join(i.text for i in items[:-1]) == reply.answer.content


def test_stream_first_token_timeout_gives_a_fallback(tenant_a, llm):
    get_config().set("llm.first_token_timeout_seconds", 0.3)
    llm.queue_faults("timeout_first_token")
    reply = _collect(tenant_a, "你好")[-1]
    assert reply.answer.error_type == "timeout"


def test_a_slow_consumer_gets_the_queued_tokens_in_one_delta(tenant_a, llm):
    llm.configure(tokens=30, token_delay_ms=2)

    async def run():
        import asyncio

        items = []
        async for item in pipeline.stream_message(
            tenant=tenant_a, content="你好", channel="web", external_user_id="slow"
        ):
            items.append(item)
            await asyncio.sleep(0.03)
        return items

    items = async_to_sync(run)()
    deltas = [item.text for item in items if isinstance(item, pipeline.Delta)]
    reply = items[-1]
    assert 1 < len(deltas) < 30
    assert "".join(deltas) == reply.text
    assert reply.answer.completion_tokens == 30


def test_stream_consumer_leaving_saves_the_partial_answer(tenant_a, llm):
    llm.configure(token_delay_ms=20, tokens=30)

    async def run():
        stream = pipeline.stream_message(
            tenant=tenant_a, content="你好", channel="web", external_user_id="s2"
        )
        first = await anext(stream)
        await stream.aclose()
        import asyncio

        for _ in range(100):
            if not pipeline._background:
                break
            await asyncio.sleep(0.02)
        return first

    first = async_to_sync(run)()
    assert isinstance(first, pipeline.Delta)
    with pipeline.tenant_scope(tenant_a):
        answer = Message.objects.get(role=Role.ASSISTANT)
    assert answer.error_type == "client_disconnected"
