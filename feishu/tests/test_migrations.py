"""Data migrations of the Feishu app, run against rows as they were stored before."""

import importlib

import pytest
from django.apps import apps

from feishu.models import InboundEvent
from feishu.tests.conftest import TOKEN
from helpdesk.tenancy import tenant_scope

pytestmark = pytest.mark.django_db

without_token = importlib.import_module(
    "feishu.migrations.0002_inbound_event_payload_without_token"
)


def test_stored_verification_tokens_are_removed(app_a, tenant_a):
    header = {"event_id": "e1", "event_type": "im.message.receive_v1", "token": TOKEN}
    with tenant_scope(tenant_a):
        old = InboundEvent.objects.create(
            app=app_a, kind="message", message_id="m1", payload={"header": header, "event": {}}
        )
        plain = InboundEvent.objects.create(
            app=app_a, kind="message", message_id="m2", payload={"event": {"x": 1}}
        )
    without_token.strip_tokens(apps, None)
    with tenant_scope(tenant_a):
        old.refresh_from_db()
        plain.refresh_from_db()
    assert old.payload == {
        "header": {"event_id": "e1", "event_type": "im.message.receive_v1"},
        "event": {},
    }
    assert plain.payload == {"event": {"x": 1}}
