"""Staff teach the assistant while they work: a reply built on a knowledge entry and a
corrected answer propose the customer's wordings as similar questions. Two tenants."""

import pytest

from conftest import api_client_for
from dialogue import services
from dialogue.models import Message, Role
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from knowledge.models import WordingProposal
from knowledge.services import entry_create

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/chat/sessions/"


@pytest.fixture
def entries(tenant_a, tenant_b):
    with tenant_scope(tenant_a):
        refund = entry_create(question="退款多久到账？", answer="1-3 个工作日到账。")
    with tenant_scope(tenant_b):
        other = entry_create(question="乙公司的退款", answer="乙公司的答案。")
    return refund, other


@pytest.fixture
def answered(tenant_a):
    """A conversation where the assistant answered the customer's question."""
    with tenant_scope(tenant_a):
        session = services.session_open(channel="web", external_user_id="visitor-1")[0]
        question = services.message_add_user(session=session, content="钱什么时候能退回来")
        answer = services.message_add_answer(
            session=session, reply_to=question, content="请在订单页申请发票。"
        )
        return session, question, answer


def proposals(tenant) -> list[tuple[str, str]]:
    with tenant_scope(tenant):
        return list(WordingProposal.objects.values_list("text", "reason"))


def test_a_reply_built_on_an_entry_proposes_the_customers_question(
    tenant_a, tenant_b, entries, answered, client_a
):
    refund, _other = entries
    session, _question, _answer = answered

    response = client_a.post(
        f"{SESSIONS}{session.pk}/reply/",
        {"content": refund.answer, "entry": refund.pk},
        format="json",
    )

    assert response.status_code == 201
    assert_matches_schema(response, "post", "/api/v1/chat/sessions/{id}/reply/")
    assert proposals(tenant_a) == [("钱什么时候能退回来", "handoff_resolved")]
    assert proposals(tenant_b) == []


def test_a_reply_naming_another_tenants_entry_is_refused_and_saves_nothing(
    tenant_a, entries, answered, client_a
):
    _refund, other = entries
    session, _question, _answer = answered

    response = client_a.post(
        f"{SESSIONS}{session.pk}/reply/", {"content": "好的", "entry": other.pk}, format="json"
    )

    assert response.status_code == 400
    assert "entry" in response.json()["error"]["fields"]
    with tenant_scope(tenant_a):
        assert not Message.objects.filter(role=Role.AGENT).exists()
    assert proposals(tenant_a) == []


def test_correcting_an_answer_notes_it_and_proposes_the_question(
    tenant_a, tenant_b, entries, answered, client_a
):
    refund, _other = entries
    session, _question, answer = answered

    response = client_a.post(
        f"{SESSIONS}{session.pk}/correct/",
        {"message": answer.pk, "entry": refund.pk},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert_matches_schema(response, "post", "/api/v1/chat/sessions/{id}/correct/")
    assert response.json()["data"]["proposal"]["text"] == "钱什么时候能退回来"
    assert proposals(tenant_a) == [("钱什么时候能退回来", "answer_corrected")]
    with tenant_scope(tenant_a):
        note = Message.objects.get(role=Role.NOTE)
    assert note.reply_to_id == answer.pk and refund.question in note.content
    assert proposals(tenant_b) == []

    again = client_a.post(
        f"{SESSIONS}{session.pk}/correct/",
        {"message": answer.pk, "entry": refund.pk},
        format="json",
    )
    assert again.status_code == 200 and again.json()["data"]["proposal"] is None


def test_corrections_are_refused_for_what_is_not_this_sessions_answer(
    tenant_a, entries, answered, client_a, client_b, viewer_a
):
    refund, other = entries
    session, question, answer = answered
    url = f"{SESSIONS}{session.pk}/correct/"

    def correct(client, message, entry):
        return client.post(url, {"message": message, "entry": entry}, format="json")

    assert correct(client_a, question.pk, refund.pk).status_code == 400
    assert correct(client_a, answer.pk, other.pk).status_code == 400
    assert correct(client_a, answer.pk, "x").status_code == 400
    assert correct(client_b, answer.pk, refund.pk).status_code == 404
    assert correct(api_client_for(viewer_a), answer.pk, refund.pk).status_code == 403
    assert proposals(tenant_a) == []
    with tenant_scope(tenant_a):
        assert not Message.objects.filter(role=Role.NOTE).exists()
