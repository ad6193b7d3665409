"""Staff replies reaching the Feishu user, and alerts sent to a group chat as cards with
an acknowledge button handled by the card callback."""

import json

import pytest

from alerts.models import Alert
from alerts.services import alert_create_manual, alert_resolve
from dialogue.models import ChatSession
from dialogue.staff import reply_add
from feishu.delivery import deliver_agent_message
from feishu.models import InboundEvent, OutboundMessage
from feishu.tests.conftest import TOKEN, post_callback
from feishustub.protocol import card_action, message_event
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db(transaction=True)


class TestAgentReplies:
    def test_a_staff_reply_reaches_the_chat_the_user_wrote_from(
        self, app_a, stub, tenant_a, agent_a
    ):
        payload = message_event(app_id="cli_a", token=TOKEN, text="转人工", chat_id="oc_group9")
        post_callback("/feishu/cli_a/events/", payload)
        with tenant_scope(tenant_a):
            session = ChatSession.objects.get()
            assert session.status == "handed_off"
            reply = reply_add(session=session, user=agent_a, content="您好，我是客服小王")
            outbound = deliver_agent_message(session=session, message=reply)
            assert deliver_agent_message(session=session, message=reply) == outbound
            outbound.refresh_from_db()
        assert outbound.status == OutboundMessage.Status.SENT
        delivered = [m for m in stub.state.sent if m["msg_type"] == "text"]
        assert [json.loads(m["content"])["text"] for m in delivered][-1] == "您好，我是客服小王"
        assert delivered[-1]["chat_id"] == "oc_group9"
        assert sum(1 for m in delivered if "小王" in m["content"]) == 1

    def test_a_group_message_not_for_the_bot_does_not_redirect_staff_replies(
        self, app_a, stub, tenant_a, agent_a
    ):
        handoff = message_event(app_id="cli_a", token=TOKEN, text="转人工", chat_id="oc_direct")
        post_callback("/feishu/cli_a/events/", handoff)
        # Later the user writes in a group without mentioning the bot: recorded, ignored.
        chatter = message_event(
            app_id="cli_a", token=TOKEN, text="lunch?", chat_id="oc_crowd", chat_type="group"
        )
        post_callback("/feishu/cli_a/events/", chatter)
        with tenant_scope(tenant_a):
            assert InboundEvent.objects.get(chat_id="oc_crowd").status == "ignored"
            session = ChatSession.objects.get()
            reply = reply_add(session=session, user=agent_a, content="您好，我是客服小王")
            outbound = deliver_agent_message(session=session, message=reply)
        assert outbound.chat_id == "oc_direct"
        assert [m["chat_id"] for m in stub.state.sent if "小王" in m["content"]] == ["oc_direct"]

    def test_nowhere_to_send_without_a_message_from_the_user(self, app_a, tenant_a, agent_a):
        with tenant_scope(tenant_a):
            session = ChatSession.objects.create(channel="feishu", external_user_id="ou_silent")
            reply = reply_add(session=session, user=agent_a, content="hi")
            assert deliver_agent_message(session=session, message=reply) is None

    def test_tenant_b_cannot_reach_tenant_a_users(
        self, app_a, app_b, stub, tenant_a, tenant_b, agent_b
    ):
        post_callback(
            "/feishu/cli_a/events/", message_event(app_id="cli_a", token=TOKEN, text="hi")
        )
        sent_before = len(stub.state.sent)
        with tenant_scope(tenant_b):
            session = ChatSession.objects.create(channel="feishu", external_user_id="ou_user")
            reply = reply_add(session=session, user=agent_b, content="hello")
            assert deliver_agent_message(session=session, message=reply) is None
        assert len(stub.state.sent) == sent_before


class TestAlerts:
    @pytest.fixture(autouse=True)
    def notifier(self):
        get_config().set(
            "alerts.notifiers",
            ["alerts.notifiers.InAppNotifier", "feishu.notifiers.FeishuAlertNotifier"],
        )

    def test_an_alert_card_goes_to_the_group_and_can_be_acknowledged(self, tenant_a, stub, app_a):
        with tenant_scope(tenant_a):
            app_a.alert_chat_id = "oc_ops"
            app_a.save()
            alert = alert_create_manual(
                title="知识库命中率低", message="命中率 40%", level="error", actor=None
            )
        [sent] = stub.state.sent
        assert sent["chat_id"] == "oc_ops" and sent["msg_type"] == "interactive"
        card = json.loads(sent["content"])
        assert "知识库命中率低" in card["header"]["title"]["content"]
        button = card["elements"][-1]["actions"][0]
        payload = card_action(app_id="cli_a", token=TOKEN, value=button["value"], chat_id="oc_ops")
        response = post_callback("/feishu/cli_a/cards/", payload)
        assert response.json()["toast"]["type"] == "success"
        with tenant_scope(tenant_a):
            alert.refresh_from_db()
            assert alert.status == Alert.Status.ACKNOWLEDGED
            alert_resolve(alert=alert, actor=None)
        resolved = json.loads(stub.state.sent[-1]["content"])
        assert resolved["header"]["template"] == "green"

    def test_other_tenants_groups_hear_nothing(self, tenant_a, tenant_b, stub, app_a, app_b):
        with tenant_scope(tenant_b):
            app_b.alert_chat_id = "oc_b_ops"
            app_b.save()
        with tenant_scope(tenant_a):
            alert_create_manual(title="A only", message="", level="warning", actor=None)
        assert stub.state.sent == []

    def test_an_alert_of_another_tenant_cannot_be_acknowledged(
        self, tenant_a, tenant_b, stub, app_a, app_b
    ):
        with tenant_scope(tenant_a):
            app_a.alert_chat_id = "oc_ops"
            app_a.save()
            alert = alert_create_manual(title="A", message="", level="warning", actor=None)
        payload = card_action(
            app_id="cli_b",
            token="verification-token-b",
            value={"action": "ack_alert", "alert": alert.pk},
        )
        response = post_callback("/feishu/cli_b/cards/", payload, encrypt_key="")
        assert response.json()["toast"]["type"] == "error"
        with tenant_scope(tenant_a):
            alert.refresh_from_db()
            assert alert.status == Alert.Status.ACTIVE
