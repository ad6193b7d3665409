"""The event and card callbacks end to end: Feishu (the stub) posts, the pipeline answers,
the answer card reaches the stub through the real lark-oapi SDK. Two tenants throughout."""

import json
import time

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils.translation import gettext
from django_tasks_db.models import DBTaskResult

from dialogue import services as dialogue_services
from dialogue.models import ChatSession, Message, SessionStatus
from feishu.models import InboundEvent, OutboundMessage, ReplyCard
from feishu.tests.conftest import TOKEN, post_callback
from feishustub.protocol import card_action, mention, message_event, url_verification
from helpdesk.tenancy import tenant_scope
from knowledge.services import entry_create

pytestmark = pytest.mark.django_db(transaction=True)


def events_url(app) -> str:
    return f"/feishu/{app.app_id}/events/"


def cards_url(app) -> str:
    return f"/feishu/{app.app_id}/cards/"


def ask(app, text="怎么申请退款", **options):
    payload = message_event(app_id=app.app_id, token=TOKEN, text=text, **options)
    return payload, post_callback(events_url(app), payload)


def card_payloads(stub) -> list[dict]:
    return [json.loads(m["content"]) for m in stub.state.sent if m["msg_type"] == "interactive"]


class TestChallenge:
    def test_challenge_is_answered_for_the_right_app_only(self, app_a, app_b):
        payload = url_verification(token=TOKEN, challenge="c-123")
        response = post_callback(events_url(app_a), payload)
        assert response.status_code == 200
        assert response.json() == {"challenge": "c-123"}
        # Tenant B's app has another token and no encrypt key: A's request is refused there.
        assert post_callback(events_url(app_b), payload).status_code == 400

    def test_unknown_app_is_404(self, app_a):
        payload = url_verification(token=TOKEN, challenge="c")
        assert post_callback("/feishu/cli_nobody/events/", payload).status_code == 404

    def test_get_is_not_allowed(self, app_a, client):
        assert client.get(events_url(app_a)).status_code == 405


class TestMessages:
    def test_a_direct_message_is_answered_with_a_card(self, app_a, stub, tenant_a):
        payload, response = ask(app_a)
        assert response.status_code == 200
        message_id = payload["event"]["message"]["message_id"]
        [sent] = stub.state.sent
        assert sent["reply_to"] == message_id and sent["msg_type"] == "interactive"
        card = json.loads(stub.state.messages[sent["message_id"]]["content"])
        buttons = card["elements"][-1]["actions"]
        assert [b["value"]["action"] for b in buttons] == ["helpful", "not_helpful", "handoff"]
        with tenant_scope(tenant_a):
            event = InboundEvent.objects.get()
            assert event.status == InboundEvent.Status.ANSWERED
            session = ChatSession.objects.get()
            assert session.channel == "feishu" and session.external_user_id == "ou_user"
            assert ReplyCard.objects.get().feishu_message_id == sent["message_id"]

    def test_redelivery_is_answered_once(self, app_a, stub, tenant_a):
        payload, _response = ask(app_a)
        for _ in range(3):
            assert post_callback(events_url(app_a), payload).status_code == 200
        assert len(stub.state.sent) == 1
        with tenant_scope(tenant_a):
            assert InboundEvent.objects.get().deliveries == 4
            assert Message.objects.filter(role="user").count() == 1

    def test_the_recorded_payload_keeps_no_verification_token(self, app_a, stub, tenant_a):
        payload, response = ask(app_a)
        assert response.status_code == 200 and payload["header"]["token"] == TOKEN
        with tenant_scope(tenant_a):
            event = InboundEvent.objects.get()
        assert event.status == InboundEvent.Status.ANSWERED
        assert "token" not in event.payload["header"]
        assert event.payload["header"]["event_id"] == payload["header"]["event_id"]
        assert event.payload["event"] == payload["event"]

    def test_group_message_needs_a_mention_of_this_bot(self, app_a, stub, tenant_a):
        ask(
            app_a,
            text="@_user_1 你好",
            chat_type="group",
            mentions=[mention("@_user_1", "ou_other", "张三")],
        )
        assert stub.state.sent == []
        ask(
            app_a,
            text="@_user_1 蓝牙钥匙连不上",
            chat_type="group",
            mentions=[mention("@_user_1", "ou_bot_a", "客服机器人")],
        )
        assert len(stub.state.sent) == 1
        with tenant_scope(tenant_a):
            asked = Message.objects.get(role="user")
            assert asked.content == "蓝牙钥匙连不上"
            statuses = sorted(InboundEvent.objects.values_list("status", flat=True))
            assert statuses == ["answered", "ignored"]

    def test_rich_text_is_read(self, app_a, tenant_a):
        post = {
            "title": "退款",
            "content": [
                [
                    {"tag": "text", "text": "订单怎么"},
                    {"tag": "a", "text": "退款", "href": "https://x"},
                ]
            ],
        }
        ask(app_a, message_type="post", content={"zh_cn": post})
        with tenant_scope(tenant_a):
            assert Message.objects.get(role="user").content == "退款\n订单怎么退款"

    def test_an_image_gets_a_polite_note(self, app_a, stub, tenant_a):
        ask(app_a, message_type="image", content={"image_key": "img_1"})
        [sent] = stub.state.sent
        assert sent["msg_type"] == "text"
        polite = "Sorry, I can only read text and rich-text messages. Please type your question."
        assert json.loads(sent["content"])["text"] == gettext(polite)
        with tenant_scope(tenant_a):
            assert not Message.objects.exists()

    def test_tenant_b_never_sees_tenant_a_events(self, app_a, app_b, tenant_a, tenant_b):
        ask(app_a)
        with tenant_scope(tenant_b):
            assert not InboundEvent.objects.exists()
            assert not ChatSession.objects.exists()
            assert not OutboundMessage.objects.exists()
        with tenant_scope(tenant_a):
            assert InboundEvent.objects.count() == 1

    def test_a_forged_event_records_nothing(self, app_a, tenant_a):
        payload = message_event(app_id="cli_a", token=TOKEN, text="hi")
        response = post_callback(events_url(app_a), payload, encrypt_key="wrong key")
        assert response.status_code == 400
        response = post_callback(events_url(app_a), payload, timestamp=int(time.time()) - 3600)
        assert response.status_code == 401
        with tenant_scope(tenant_a):
            assert not InboundEvent.objects.exists()

    def test_an_event_without_message_id_is_400(self, app_a, tenant_a):
        payload = message_event(app_id="cli_a", token=TOKEN, text="hi")
        del payload["event"]["message"]["message_id"]
        assert post_callback(events_url(app_a), payload).status_code == 400
        with tenant_scope(tenant_a):
            assert not InboundEvent.objects.exists()


class TestCardActions:
    def answered(self, app, stub, tenant):
        ask(app)
        with tenant_scope(tenant):
            return ReplyCard.objects.get()

    def press(self, app, card, value, open_id="ou_user"):
        payload = card_action(
            app_id=app.app_id,
            token=TOKEN,
            value=value,
            open_id=open_id,
            message_id=card.feishu_message_id,
        )
        return post_callback(cards_url(app), payload)

    def test_helpful_is_recorded(self, app_a, stub, tenant_a):
        card = self.answered(app_a, stub, tenant_a)
        response = self.press(app_a, card, {"action": "helpful", "answer": card.answer_id})
        assert response.status_code == 200
        assert response.json()["toast"]["type"] == "success"
        with tenant_scope(tenant_a):
            assert Message.objects.get(pk=card.answer_id).thumbs_up is True

    def test_the_recorded_action_keeps_no_verification_token(self, app_a, stub, tenant_a):
        card = self.answered(app_a, stub, tenant_a)
        response = self.press(app_a, card, {"action": "helpful", "answer": card.answer_id})
        assert response.status_code == 200
        with tenant_scope(tenant_a):
            action = InboundEvent.objects.get(kind=InboundEvent.Kind.CARD_ACTION)
        assert action.payload["header"]["event_id"] and "token" not in action.payload["header"]

    def test_someone_else_cannot_rate(self, app_a, stub, tenant_a):
        card = self.answered(app_a, stub, tenant_a)
        value = {"action": "not_helpful", "answer": card.answer_id}
        response = self.press(app_a, card, value, open_id="ou_intruder")
        assert response.json()["toast"]["type"] == "error"
        with tenant_scope(tenant_a):
            assert Message.objects.get(pk=card.answer_id).thumbs_up is None

    def test_hand_off_opens_a_work_order(self, app_a, stub, tenant_a):
        card = self.answered(app_a, stub, tenant_a)
        response = self.press(app_a, card, {"action": "handoff", "session": card.session_id})
        assert response.json()["toast"]["type"] == "success"
        with tenant_scope(tenant_a):
            session = ChatSession.objects.get()
            assert session.status == SessionStatus.HANDED_OFF
            assert session.work_order is not None

    def test_tenant_b_app_cannot_touch_tenant_a_answers(self, app_a, app_b, stub, tenant_a):
        card = self.answered(app_a, stub, tenant_a)
        payload = card_action(
            app_id="cli_b",
            token="verification-token-b",
            value={"action": "helpful", "answer": card.answer_id},
        )
        response = post_callback(cards_url(app_b), payload, encrypt_key="")
        assert response.json()["toast"]["type"] == "error"
        with tenant_scope(tenant_a):
            assert Message.objects.get(pk=card.answer_id).thumbs_up is None

    def test_a_message_event_on_the_card_url_is_400(self, app_a):
        payload = message_event(app_id="cli_a", token=TOKEN, text="hi")
        assert post_callback(cards_url(app_a), payload).status_code == 400

    def test_unknown_action_is_400(self, app_a, stub, tenant_a):
        card = self.answered(app_a, stub, tenant_a)
        assert self.press(app_a, card, {"action": "explode"}).status_code == 400


class TestStreaming:
    def test_a_streamed_answer_updates_its_card_then_shows_sources(
        self, app_a, stub, tenant_a, llm
    ):
        with tenant_scope(tenant_a):
            entry_create(question="如何申请退款？", answer="在订单详情页申请退款。", verified=True)
        ask(app_a, text="如何申请退款")
        [sent] = stub.state.sent
        assert len(stub.state.updates) >= 2
        partial = json.loads(stub.state.updates[0]["content"])
        assert "action" not in [e["tag"] for e in partial["elements"]]
        final = json.loads(stub.state.messages[sent["message_id"]]["content"])
        tags = [e["tag"] for e in final["elements"]]
        assert tags[-1] == "action"
        with tenant_scope(tenant_a):
            answer = Message.objects.get(role="assistant")
        assert final["elements"][0]["content"] == answer.content
        assert answer.citations
        assert "如何申请退款？" in final["elements"][1]["elements"][0]["content"]


class TestHandedOff:
    def test_after_a_hand_off_messages_go_to_the_work_order_not_a_card(self, app_a, stub, tenant_a):
        ask(app_a, text="转人工")
        assert len(stub.state.sent) == 1  # the hand-off notice
        ask(app_a, text="我的车还是连不上蓝牙")
        assert len(stub.state.sent) == 1
        with tenant_scope(tenant_a):
            session = ChatSession.objects.get()
            assert session.status == SessionStatus.HANDED_OFF
            comments = session.work_order.events.filter(kind="comment")
            assert any("蓝牙" in c.body for c in comments)


class TestDeadline:
    def test_the_callback_answers_before_the_llm_is_asked(self, app_a, stub, tenant_a, llm):
        """With the real task backend the callback only records the event and its task;
        the LLM (here slow) is asked by the worker, after the callback has answered."""
        llm.configure(latency_ms=1500)
        database_tasks = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        with override_settings(TASKS=database_tasks):
            _payload, response = ask(app_a, text="怎么申请退款")
            assert response.status_code == 200
            assert llm.requests() == [] and stub.state.sent == []
            assert DBTaskResult.objects.filter(status="READY").count() == 1
            call_command("db_worker", "--batch", "--queue-name", "*", "--no-startup-delay")
        assert len(llm.requests()) == 1
        assert len(stub.state.sent) == 1
        with tenant_scope(tenant_a):
            assert InboundEvent.objects.get().status == InboundEvent.Status.ANSWERED

    def test_a_message_already_being_answered_elsewhere_gets_no_second_reply(
        self, app_a, stub, tenant_a
    ):
        payload = message_event(app_id="cli_a", token=TOKEN, text="怎么退款")
        message_id = payload["event"]["message"]["message_id"]
        # Another worker has saved this message in the pipeline and not answered yet.
        with tenant_scope(tenant_a):
            session = dialogue_services.session_open(channel="feishu", external_user_id="ou_user")
            dialogue_services.message_add_user(
                session=session[0], content="怎么退款", channel_message_id=message_id
            )
        post_callback("/feishu/cli_a/events/", payload)
        assert stub.state.sent == []
        with tenant_scope(tenant_a):
            assert InboundEvent.objects.get().status == InboundEvent.Status.IGNORED


def assert_refused_unrecorded(url: str, payload: dict, tenant, msg: str) -> None:
    """A 400 naming what is wrong, and nothing recorded for the tenant."""
    response = post_callback(url, payload)
    assert response.status_code == 400
    assert response.json() == {"msg": msg}
    with tenant_scope(tenant):
        assert not InboundEvent.objects.exists()


class TestMalformedBodies:
    """Verified requests whose fields have the wrong shape: a 4xx or an ignored event,
    never a server error."""

    def test_a_header_that_is_not_an_object_is_400_on_the_card_url(self, app_a, tenant_a):
        payload = {"schema": "2.0", "header": "x", "token": TOKEN, "event": {}}
        assert_refused_unrecorded(cards_url(app_a), payload, tenant_a, "not a card action")

    def test_a_header_that_is_not_an_object_and_no_timestamp_is_400(self, app_b, tenant_b):
        # App B has a verification token and no encrypt key: no signature, and the time is
        # read from header.create_time when the timestamp header is absent.
        payload = {"schema": "2.0", "header": "x", "token": "verification-token-b"}
        for url in (events_url(app_b), cards_url(app_b)):
            response = Client().post(url, data=json.dumps(payload), content_type="application/json")
            assert response.status_code == 400
            assert response.json() == {"msg": "request time missing or malformed"}
        with tenant_scope(tenant_b):
            assert not InboundEvent.objects.exists()

    def test_a_sender_id_that_is_not_an_object_is_ignored(self, app_a, stub, tenant_a):
        payload = message_event(app_id="cli_a", token=TOKEN, text="hi")
        payload["event"]["sender"]["sender_id"] = "x"
        assert post_callback(events_url(app_a), payload).status_code == 200
        assert stub.state.sent == []
        with tenant_scope(tenant_a):
            event = InboundEvent.objects.get()
        assert event.status == InboundEvent.Status.IGNORED
        assert (event.open_id, event.note) == ("", "sender open_id missing")

    def test_a_mention_id_that_is_not_an_object_is_read_as_no_mention(self, app_a, stub, tenant_a):
        payload = message_event(app_id="cli_a", token=TOKEN, text="@_user_1 hi")
        payload["event"]["message"]["mentions"] = [{"key": "@_user_1", "id": "x", "name": "B"}]
        assert post_callback(events_url(app_a), payload).status_code == 200
        with tenant_scope(tenant_a):
            assert InboundEvent.objects.get().status == InboundEvent.Status.ANSWERED

    @pytest.mark.parametrize("field", ["action", "operator"])
    def test_an_action_or_operator_that_is_not_an_object_is_400(self, app_a, tenant_a, field):
        payload = card_action(app_id="cli_a", token=TOKEN, value={"action": "helpful"})
        payload["event"][field] = "x"
        response = post_callback(cards_url(app_a), payload)
        assert response.status_code == 400
        assert response.json() == {"msg": "action value or operator missing"}
        with tenant_scope(tenant_a):
            # Recorded once per event id, as every card action is, and not applied.
            event = InboundEvent.objects.get()
        assert event.status == InboundEvent.Status.IGNORED

    def test_an_over_long_message_id_is_400(self, app_a, tenant_a):
        payload = message_event(app_id="cli_a", token=TOKEN, text="hi")
        payload["event"]["message"]["message_id"] = "om_" + "x" * 126
        assert_refused_unrecorded(events_url(app_a), payload, tenant_a, "message id too long")

    def test_an_over_long_card_action_id_is_400(self, app_a, tenant_a):
        payload = card_action(app_id="cli_a", token=TOKEN, value={"action": "helpful"})
        payload["header"]["event_id"] = "e" * 125  # "action:" + 125 characters is 132
        assert_refused_unrecorded(cards_url(app_a), payload, tenant_a, "message id too long")
