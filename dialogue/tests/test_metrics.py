"""Dialogue alert metrics, registered in the alerts registry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from dialogue import services
from dialogue.models import ChatSession, HandoffReason

pytestmark = pytest.mark.django_db


def window():
    now = timezone.now()
    return {"since": now - timedelta(hours=1), "until": now + timedelta(minutes=1)}


def conversation(user: str, *, citations=(), low=False, error=""):
    session, _ = services.session_open(channel="web", external_user_id=user)
    question = services.message_add_user(session=session, content="问题")
    services.message_add_answer(
        session=session,
        reply_to=question,
        content="回答",
        citations=list(citations),
        confidence=0.2 if low else 0.8,
        low_confidence=low,
        error_type=error,
    )
    return session


def test_metrics_are_registered():
    from alerts.registry import Unit, get_metric

    for name in (
        "dialogue.knowledge_hit_rate",
        "dialogue.low_confidence_rate",
        "dialogue.handoff_rate",
        "dialogue.drop_rate",
    ):
        assert get_metric(name).unit == Unit.RATIO


def test_rates(tenant_a, tenant_b, scope_a, llm):
    from alerts.registry import get_metric

    conversation("u1", citations=[1])
    conversation("u2", low=True)
    conversation("u3", error="timeout")
    handed = conversation("u4", low=True)
    services.session_handoff(session=handed, reason=HandoffReason.KEYWORD)

    def value(name, tenant=tenant_a):
        return get_metric(name).func(tenant=tenant, **window())

    assert value("dialogue.knowledge_hit_rate") == pytest.approx(1 / 3)
    assert value("dialogue.low_confidence_rate") == pytest.approx(2 / 3)
    assert value("dialogue.handoff_rate") == pytest.approx(1 / 4)
    # Nothing has gone quiet yet.
    assert value("dialogue.drop_rate") is None
    long_ago = timezone.now() - timedelta(minutes=45)
    ChatSession.objects.update(last_activity_at=long_ago)
    # u2 (low) and u3 (failed) left unhelped; u1 was helped; u4 went to a person.
    assert value("dialogue.drop_rate") == pytest.approx(2 / 4)


def test_no_data_is_none(tenant_b, scope_b):
    from alerts.registry import get_metric

    for name in ("dialogue.knowledge_hit_rate", "dialogue.handoff_rate", "dialogue.drop_rate"):
        assert get_metric(name).func(tenant=tenant_b, **window()) is None
