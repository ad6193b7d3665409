"""Sending within Feishu's limits, through the real SDK against the stub: the shared
token, pacing per chat and app, back-off on rate-limit answers, bounded retries and the
failures that feed the alert metric."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from alerts.registry import get_metric
from feishu import client as feishu_client
from feishu import limits
from feishu.models import OutboundMessage
from feishu.outbound import outbound_send
from helpdesk.config import get_config
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


def text_message(app, chat_id="oc_1", text="你好") -> OutboundMessage:
    return OutboundMessage.objects.create(
        app=app, purpose="notice", msg_type="text", content={"text": text}, chat_id=chat_id
    )


class TestToken:
    def test_the_token_is_fetched_once_and_shared(self, app_a, stub, scope_a):
        first = feishu_client.tenant_token(app_a)
        assert feishu_client.tenant_token(app_a) == first
        assert stub.state.token_requests == 1
        assert cache.get(f"feishu:token:{app_a.app_id}") == first

    def test_it_is_refreshed_before_the_platform_expires_it(self, app_a, stub, scope_a):
        assert feishu_client.cache_seconds(7200, 600) == 6600
        assert feishu_client.cache_seconds(300, 600) == 150
        stub.state.token_ttl = 601
        get_config().set("feishu.token_refresh_margin_seconds", 600)
        first = feishu_client.tenant_token(app_a)
        time.sleep(1.2)
        assert feishu_client.tenant_token(app_a) != first
        assert stub.state.token_requests == 2

    def test_concurrent_refreshes_fetch_one_token(self, app_a, stub, scope_a):
        tokens: list[str] = []

        def fetch() -> None:
            with tenant_scope(app_a.tenant):
                tokens.append(feishu_client.tenant_token(app_a))

        threads = [threading.Thread(target=fetch) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(tokens)) == 1
        assert stub.state.token_requests == 1

    def test_a_wrong_secret_is_an_error_not_a_token(self, app_a, stub, scope_a):
        stub.state.add_app("cli_a", "rotated-secret")
        with pytest.raises(feishu_client.FeishuAPIError) as error:
            feishu_client.tenant_token(app_a)
        assert error.value.code == 10014

    def test_an_expired_token_is_replaced(self, app_a, stub, scope_a):
        cache.set(f"feishu:token:{app_a.app_id}", "t-expired", 600)
        sent = outbound_send(outbound=text_message(app_a))
        assert sent.status == OutboundMessage.Status.SENT
        assert stub.state.token_requests == 1


class TestLimits:
    def test_a_burst_to_one_chat_never_trips_the_platform_limit(self, app_a, stub, scope_a):
        messages = [text_message(app_a, text=str(n)) for n in range(12)]
        started = time.monotonic()
        for message in messages:
            assert outbound_send(outbound=message).status == OutboundMessage.Status.SENT
        assert stub.state.rejected_for_rate == 0
        assert time.monotonic() - started >= 2.0  # 12 messages at under 5 a second
        times = sorted(m["sent_at"] for m in stub.state.sent)
        assert all(later - earlier >= 1.0 for earlier, later in zip(times, times[5:], strict=False))

    def test_slots_are_shared_by_threads(self, app_a):
        claimed: list[float] = []

        def take() -> None:
            limits.acquire([("chat:test", 5)])
            claimed.append(time.monotonic())

        threads = [threading.Thread(target=take) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        claimed.sort()
        assert all(
            later - earlier >= 0.95 for earlier, later in zip(claimed, claimed[5:], strict=False)
        )

    def test_no_slot_in_time_raises(self):
        for _ in range(3):
            limits.acquire([("chat:busy", 2)], max_wait=5)
        with pytest.raises(limits.RateLimitWait):
            limits.acquire([("chat:busy", 2)], max_wait=0.5)


class TestRetries:
    def test_rate_limit_answer_waits_for_the_reset_header(self, app_a, stub, scope_a):
        stub.state.queue_faults("rate_limit", reset_seconds=1)
        started = time.monotonic()
        sent = outbound_send(outbound=text_message(app_a))
        assert sent.status == OutboundMessage.Status.SENT
        assert time.monotonic() - started >= 1.0
        assert len(stub.state.sent) == 1

    def test_server_errors_are_retried(self, app_a, stub, scope_a):
        stub.state.queue_faults("server_error", "server_error")
        sent = outbound_send(outbound=text_message(app_a))
        assert sent.status == OutboundMessage.Status.SENT

    def test_persistent_failure_is_recorded_and_counted(self, app_a, stub, scope_a, tenant_a):
        get_config().set("feishu.max_attempts", 2)
        stub.state.queue_faults("server_error", "server_error")
        failed = outbound_send(outbound=text_message(app_a))
        assert failed.status == OutboundMessage.Status.FAILED
        assert "1500" in failed.last_error
        assert stub.state.sent == []
        now = timezone.now()
        measure = get_metric("feishu.delivery_failures").measure
        assert measure(tenant=tenant_a, since=now - timedelta(hours=1), until=now) == 1

    def test_a_bad_request_is_not_retried(self, app_a, stub, scope_a):
        stub.state.queue_faults("bad_request")
        failed = outbound_send(outbound=text_message(app_a))
        assert failed.status == OutboundMessage.Status.FAILED
        assert stub.state.faults == type(stub.state.faults)()

    def test_failures_of_tenant_a_do_not_count_for_tenant_b(
        self, app_a, app_b, stub, tenant_a, tenant_b
    ):
        get_config().set("feishu.max_attempts", 1)
        stub.state.queue_faults("bad_request")
        with tenant_scope(tenant_a):
            outbound_send(outbound=text_message(app_a))
        now = timezone.now()
        measure = get_metric("feishu.delivery_failures").measure
        with tenant_scope(tenant_b):
            assert measure(tenant=tenant_b, since=now - timedelta(hours=1), until=now) == 0

    def test_the_sdk_sent_what_we_meant(self, app_a, stub, scope_a):
        outbound_send(outbound=text_message(app_a, chat_id="oc_42", text="稍等"))
        [sent] = stub.state.sent
        assert sent["chat_id"] == "oc_42" and sent["receive_id_type"] == "chat_id"
        assert json.loads(sent["content"]) == {"text": "稍等"}
