"""The LLM's hand-off summary: written after the hand-off, on the right tenant's work order."""

import logging
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.tasks import TaskResultStatus
from django.tasks.signals import task_finished
from django.utils import translation

from dialogue import services
from dialogue.handoff_summary import SUMMARY_PROMPT, transcript_tail, write_handoff_summary
from dialogue.models import HandoffReason
from dialogue.tests.test_api import SESSIONS, open_session, send
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from llm.models import LLMCall
from llmstub.answers import answer_tokens
from workorders.models import WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db

QUESTION = "车机 OTA 升级到 70% 就失败了"
ANSWER = "请确认车辆处于 P 挡、电量高于 50%，然后重试。"
FOLLOW_UP = "试过了还是不行，明天要出差，很着急"
SECRET = "sk-handoff-test-secret"


def heading() -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext("AI summary of the conversation:")


def converse(tenant, *, user: str = "u1", question: str = QUESTION):
    with tenant_scope(tenant):
        session, _created = services.session_open(channel="web", external_user_id=user)
        asked = services.message_add_user(session=session, content=question)
        services.message_add_answer(session=session, reply_to=asked, content=ANSWER)
        services.message_add_user(session=session, content=FOLLOW_UP)
    return session


def hand_off(tenant, session, capture):
    """Hand off as the pipeline does, then run what was deferred to the commit."""
    with tenant_scope(tenant), capture(execute=True):
        return services.session_handoff(session=session, reason=HandoffReason.KEYWORD)


def summary_notes(tenant, work_order_id: int) -> list[WorkOrderEvent]:
    with tenant_scope(tenant):
        return list(
            WorkOrderEvent.objects.filter(
                work_order_id=work_order_id, kind="comment", body__startswith=heading()
            )
        )


def stub_answer(messages: list[dict]) -> str:
    return "".join(answer_tokens(messages, 12))


@pytest.fixture
def task_results() -> Iterator[list]:
    results: list = []

    def collect(sender, task_result, **kwargs) -> None:
        results.append(task_result)

    task_finished.connect(collect)
    yield results
    task_finished.disconnect(collect)


def test_summary_is_written_after_the_handoff_and_shown_to_staff(
    tenant_a,
    llm,
    visitor_a,
    client_a,
    client_b,
    agent_a,
    client,
    task_results,
    django_capture_on_commit_callbacks,
):
    get_config().set("dialogue.handoff_after_low_confidence", 0)
    session_id = open_session(visitor_a)
    send(visitor_a, session_id, QUESTION)
    send(visitor_a, session_id, FOLLOW_UP)
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor_a.post(f"{SESSIONS}{session_id}/handoff/")
    assert response.status_code == 200
    work_order_id = response.json()["data"]["work_order"]

    [result] = task_results
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == "written"
    request = llm.requests()[-1]
    assert request["max_tokens"] == 400
    system, user = request["messages"]
    assert system == {"role": "system", "content": SUMMARY_PROMPT}
    assert f"客户：{QUESTION}" in user["content"] and f"客户：{FOLLOW_UP}" in user["content"]
    assert "AI 助手：Stub answer" in user["content"]
    text = stub_answer(request["messages"])
    expected = f"{heading()}\n{text}"
    with tenant_scope(tenant_a):
        call = LLMCall.objects.get(purpose="handoff_summary")
        assert call.outcome == "ok" and call.completion_tokens == 12
        [note] = summary_notes(tenant_a, work_order_id)
        assert note.body == expected and note.internal and note.actor is None
        # The template summary and the transcript stay in the description.
        description = WorkOrder.objects.get(pk=work_order_id).description
        assert f"客户：{QUESTION}" in description and heading() not in description

    detail = client_a.get(f"/api/v1/workorders/{work_order_id}/")
    assert_matches_schema(detail, "get", "/api/v1/workorders/{id}/")
    timeline = detail.json()["data"]["timeline"]
    [event] = [event for event in timeline if event["body"] == expected]
    assert (event["kind"], event["internal"], event["actor"]) == ("comment", True, None)
    assert client_b.get(f"/api/v1/workorders/{work_order_id}/").status_code == 404
    client.force_login(agent_a)
    page = client.get(f"/admin/workorders/workorder/{work_order_id}/change/")
    assert page.status_code == 200
    assert heading() in page.content.decode() and text.split()[2] in page.content.decode()


def test_handoff_does_not_wait_for_the_summary(tenant_a, llm, task_results):
    session = converse(tenant_a)
    with tenant_scope(tenant_a):
        handed = services.session_handoff(session=session, reason=HandoffReason.KEYWORD)
    # Until the hand-off commits, no task runs and the LLM is not asked.
    assert handed.work_order_id and task_results == [] and llm.stats()["requests"] == 0


def test_without_an_llm_the_template_summary_stays(
    tenant_a, task_results, caplog, django_capture_on_commit_callbacks
):
    session = converse(tenant_a)
    with caplog.at_level(logging.INFO, logger="dialogue.handoff_summary"):
        handed = hand_off(tenant_a, session, django_capture_on_commit_callbacks)
    assert task_results == []
    assert "No LLM is configured" in caplog.text
    with tenant_scope(tenant_a):
        assert LLMCall.objects.count() == 0
        description = WorkOrder.objects.get(pk=handed.work_order_id).description
    assert QUESTION in description
    assert summary_notes(tenant_a, handed.work_order_id) == []


@pytest.mark.parametrize(
    ("fault", "error_type", "status_code"),
    [("500", "provider_error", 500), ("429", "rate_limited", 429), ("hang", "timeout", None)],
)
def test_llm_failure_keeps_the_template_summary(
    tenant_a,
    llm,
    task_results,
    caplog,
    django_capture_on_commit_callbacks,
    fault,
    error_type,
    status_code,
):
    get_config().update({"llm.api_key": SECRET, "llm.timeout_seconds": 0.5})
    llm.queue_faults(fault)
    session = converse(tenant_a)
    with caplog.at_level(logging.WARNING):
        handed = hand_off(tenant_a, session, django_capture_on_commit_callbacks)

    # The task ended normally: nothing is left to retry.
    [result] = task_results
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == f"failed: {error_type}"
    assert llm.stats()["requests"] == 1
    with tenant_scope(tenant_a):
        call = LLMCall.objects.get()
        work_order = WorkOrder.objects.get(pk=handed.work_order_id)
    assert (call.purpose, call.outcome, call.error_type) == ("handoff_summary", "error", error_type)
    assert call.status_code == status_code
    assert summary_notes(tenant_a, work_order.pk) == []
    assert QUESTION in work_order.description
    assert f"Hand-off summary of work order {work_order.number} not written" in caplog.text
    assert error_type in caplog.text and SECRET not in caplog.text


def test_empty_answer_is_not_written(
    tenant_a, llm, task_results, django_capture_on_commit_callbacks
):
    llm.configure(tokens=0)
    handed = hand_off(tenant_a, converse(tenant_a), django_capture_on_commit_callbacks)
    assert task_results[0].return_value == "failed: empty answer"
    assert summary_notes(tenant_a, handed.work_order_id) == []


def test_each_summary_lands_on_its_own_tenants_work_order(
    tenant_a, tenant_b, llm, task_results, django_capture_on_commit_callbacks
):
    # The same customer id in both tenants, on purpose.
    handed_a = hand_off(tenant_a, converse(tenant_a), django_capture_on_commit_callbacks)
    session_b = converse(tenant_b, question="退款一直没有到账")
    handed_b = hand_off(tenant_b, session_b, django_capture_on_commit_callbacks)

    request_a, request_b = (request["messages"] for request in llm.requests())
    assert QUESTION in request_a[1]["content"] and "退款" not in request_a[1]["content"]
    assert "退款一直没有到账" in request_b[1]["content"] and QUESTION not in request_b[1]["content"]
    [note_a] = summary_notes(tenant_a, handed_a.work_order_id)
    [note_b] = summary_notes(tenant_b, handed_b.work_order_id)
    assert note_a.body.endswith(stub_answer(request_a)) and note_a.tenant_id == tenant_a.pk
    assert note_b.body.endswith(stub_answer(request_b)) and note_b.tenant_id == tenant_b.pk
    for tenant in (tenant_a, tenant_b):
        with tenant_scope(tenant):
            assert LLMCall.objects.filter(purpose="handoff_summary").count() == 1

    # Enqueued under the wrong tenant, the task cannot see the session: nothing happens.
    wrong = write_handoff_summary.enqueue(tenant_id=tenant_b.pk, session_id=handed_a.pk)
    assert wrong.return_value == "no work order"
    assert llm.stats()["requests"] == 2
    assert len(summary_notes(tenant_a, handed_a.work_order_id)) == 1


def test_transcript_keeps_the_latest_part_up_to_the_handoff(
    tenant_a, llm, django_capture_on_commit_callbacks
):
    detail = "细节" * 100
    session = converse(tenant_a)
    with tenant_scope(tenant_a):
        for number in range(40):
            services.message_add_user(session=session, content=f"补充说明第 {number} 条：{detail}")
    handed = hand_off(tenant_a, session, django_capture_on_commit_callbacks)
    with tenant_scope(tenant_a):
        services.message_add_user(session=handed, content="转人工之后的消息")
        tail = transcript_tail(handed, budget=500)
        whole = transcript_tail(handed, budget=100_000)
    assert len(tail) == 500 and tail.startswith("…")
    assert tail.endswith(f"补充说明第 39 条：{detail}")
    assert whole.startswith("[") and QUESTION in whole
    assert "转人工之后的消息" not in whole
    sent = llm.requests()[-1]["messages"][1]["content"]
    assert QUESTION not in sent and "补充说明第 39 条" in sent
