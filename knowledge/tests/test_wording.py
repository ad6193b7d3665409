"""Similar questions and wording proposals: services, API and admin, with two tenants."""

import pytest
from django.core.exceptions import ValidationError

from conftest import api_client_for
from dialogue.models import ChatSession, Message
from helpdesk.tenancy import tenant_scope
from helpdesk.testing import assert_matches_schema
from knowledge import proposals, services
from knowledge.models import SimilarQuestion, WordingProposal
from knowledge.search import search
from knowledge.search_mode import LEXICAL_ONLY

URL = "/api/v1/knowledge/"
PROPOSALS = "/api/v1/knowledge/proposals/"


def data(response):
    return response.json()["data"]


def conversation(*turns):
    session = ChatSession.objects.create(channel="web", external_user_id="visitor-1")
    messages = [Message.objects.create(session=session, role=r, content=c) for r, c in turns]
    return session, messages


@pytest.fixture
def entry_a(scope_a):
    return services.entry_create(
        question="充电口盖打不开怎么办？", answer="按压右侧。", verified=True
    )


def test_proposals_from_a_resolved_handoff_and_their_approval(entry_a, agent_a):
    session, _messages = conversation(
        ("user", "充电那个小盖子掰不开"),
        ("assistant", "抱歉，我没有找到答案。"),
        ("user", "转人工"),
        ("user", "充电口盖打不开怎么办？"),  # the entry's own question: not proposed
    )
    made = proposals.proposals_for_resolved_session(session=session, entry=entry_a, actor=agent_a)
    assert [p.text for p in made] == ["充电那个小盖子掰不开"]
    assert proposals.proposals_for_resolved_session(session=session, entry=entry_a) == []
    approved = proposals.proposal_approve(proposal=made[0], actor=agent_a)
    assert approved.status == WordingProposal.Status.APPROVED and approved.decided_by == agent_a
    similar = SimilarQuestion.objects.get(entry=entry_a)
    assert (similar.text, similar.source) == ("充电那个小盖子掰不开", "proposal")
    assert search("充电那个小盖子掰不开", mode=LEXICAL_ONLY)[0].entry == entry_a
    with pytest.raises(ValidationError):
        proposals.proposal_reject(proposal=made[0], actor=agent_a)


def test_a_corrected_answer_proposes_the_question_it_replied_to(entry_a):
    _session, (question, answer) = conversation(
        ("user", "小盖板卡住了"), ("assistant", "请检查蓝牙。")
    )
    proposal = proposals.proposal_for_corrected_answer(message=answer, entry=entry_a)
    assert proposal.text == "小盖板卡住了" and proposal.message == question
    assert proposal.reason == WordingProposal.Reason.ANSWER_CORRECTED
    proposals.proposal_reject(proposal=proposal)
    # A rejected wording is not proposed again.
    assert proposals.proposal_for_corrected_answer(message=answer, entry=entry_a) is None


def test_similar_questions_through_the_api(client_a, client_b, tenant_a):
    response = client_a.post(
        URL,
        {
            "question": "如何修改昵称？",
            "answer": "在个人资料页。",
            "similar_questions": ["网名怎么改"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert_matches_schema(response, "post", "/api/v1/knowledge/")
    entry_id = data(response)["id"]
    assert data(response)["similar_questions"] == ["网名怎么改"]
    response = client_a.patch(
        f"{URL}{entry_id}/", {"similar_questions": ["改名字", "换昵称"]}, format="json"
    )
    assert_matches_schema(response, "patch", "/api/v1/knowledge/{id}/")
    assert data(response)["similar_questions"] == ["改名字", "换昵称"]
    response = client_a.get(URL)
    assert_matches_schema(response, "get", "/api/v1/knowledge/")
    assert data(response)[0]["similar_questions"] == ["改名字", "换昵称"]
    bad = client_a.patch(f"{URL}{entry_id}/", {"similar_questions": ["x" * 501]}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"]
    assert (
        client_b.patch(f"{URL}{entry_id}/", {"similar_questions": []}, format="json").status_code
        == 404
    )
    with tenant_scope(tenant_a):
        assert search("换昵称", mode=LEXICAL_ONLY)[0].entry.pk == entry_id


def test_proposals_api_with_two_tenants(client_a, client_b, tenant_a, tenant_b, viewer_a):
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="如何关闭推送？", answer="在通知设置。")
        proposal = proposals.proposal_create(
            entry=entry, wording="广告通知太多了", reason="handoff_resolved"
        )
    with tenant_scope(tenant_b):
        other = services.entry_create(question="租户乙的问题", answer="答案。")
        proposals.proposal_create(entry=other, wording="乙的问法", reason="answer_corrected")

    response = client_a.get(PROPOSALS, {"status": "pending"})
    assert_matches_schema(response, "get", "/api/v1/knowledge/proposals/")
    assert [p["text"] for p in data(response)] == ["广告通知太多了"]
    assert data(response)[0]["entry_question"] == "如何关闭推送？"
    assert client_b.post(f"{PROPOSALS}{proposal.pk}/approve/").status_code == 404
    assert api_client_for(viewer_a).post(f"{PROPOSALS}{proposal.pk}/approve/").status_code == 403
    response = client_a.post(f"{PROPOSALS}{proposal.pk}/approve/")
    assert response.status_code == 200
    assert_matches_schema(response, "post", "/api/v1/knowledge/proposals/{id}/approve/")
    assert data(response)["status"] == "approved"
    again = client_a.post(f"{PROPOSALS}{proposal.pk}/reject/")
    assert again.status_code == 400
    assert_matches_schema(again, "post", "/api/v1/knowledge/proposals/{id}/reject/")
    assert client_a.get(PROPOSALS, {"status": "nonsense"}).status_code == 400
    with tenant_scope(tenant_a):
        assert list(entry.similar_questions.values_list("text", flat=True)) == ["广告通知太多了"]


def test_admin_edits_similar_questions_and_approves_proposals(client, admin_a, admin_b, tenant_a):
    client.force_login(admin_a)
    with tenant_scope(tenant_a):
        entry = services.entry_create(question="如何修改收货地址？", answer="在收货地址页。")
        proposal = proposals.proposal_create(
            entry=entry, wording="寄东西的地址写错了", reason="handoff_resolved"
        )
    page = client.get(f"/admin/knowledge/knowledgeentry/{entry.pk}/change/")
    assert page.status_code == 200 and "similar_questions" in page.content.decode()
    response = client.post(
        f"/admin/knowledge/knowledgeentry/{entry.pk}/change/",
        {
            "question": entry.question,
            "answer": entry.answer,
            "category": "",
            "tags": "[]",
            "is_active": "on",
            "similar_questions": "邮寄地址怎么改\n换个收件地址",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post(
        "/admin/knowledge/wordingproposal/",
        {"action": "approve_selected", "_selected_action": [proposal.pk]},
    )
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        assert list(entry.similar_questions.values_list("text", flat=True)) == [
            "邮寄地址怎么改",
            "换个收件地址",
            "寄东西的地址写错了",
        ]
    assert client.get("/admin/knowledge/wordingproposal/").status_code == 200
    client.force_login(admin_b)
    page = client.get("/admin/knowledge/wordingproposal/")
    assert page.status_code == 200 and "寄东西的地址写错了" not in page.content.decode()
    assert client.get(f"/admin/knowledge/wordingproposal/{proposal.pk}/change/").status_code in (
        302,
        404,
    )
