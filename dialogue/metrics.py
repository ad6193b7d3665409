"""Dialogue metrics for the alert rules (ratios 0..1; None when there is nothing to measure).

Answers are the assistant's messages without an error (LLM failures are measured
from the LLM call records instead). A window is [since, until); metrics run in the tenant's scope.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.registry import Unit, metric
from dialogue.models import ChatSession, Message, Role
from helpdesk.config import get_config


def _answers(since: datetime, until: datetime):
    return Message.objects.filter(
        role=Role.ASSISTANT, error_type="", created_at__gte=since, created_at__lt=until
    )


def _ratio(part: int, total: int) -> float | None:
    return part / total if total else None


@metric("dialogue.knowledge_hit_rate", unit=Unit.RATIO, label=_("Knowledge hit rate"))
def knowledge_hit_rate(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """Share of answers that cite at least one knowledge entry."""
    answers = _answers(since, until)
    total = answers.count()
    return _ratio(answers.exclude(citations=[]).count(), total)


@metric("dialogue.low_confidence_rate", unit=Unit.RATIO, label=_("Low-confidence answer rate"))
def low_confidence_rate(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    answers = _answers(since, until)
    return _ratio(answers.filter(low_confidence=True).count(), answers.count())


@metric("dialogue.handoff_rate", unit=Unit.RATIO, label=_("Hand-off rate"))
def handoff_rate(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """Share of the sessions started in the window that were handed to a person."""
    sessions = ChatSession.objects.filter(started_at__gte=since, started_at__lt=until)
    return _ratio(sessions.exclude(handoff_reason="").count(), sessions.count())


@metric("dialogue.drop_rate", unit=Unit.RATIO, label=_("Conversation drop rate"))
def drop_rate(*, tenant: Any, since: datetime, until: datetime) -> float | None:
    """Of the conversations that went quiet in the window (last activity in it, and idle
    longer than `dialogue.session_idle_minutes` since), the share that were not handed to a
    person and whose last answer was low-confidence or failed: the customer left unhelped."""
    idle = timedelta(minutes=get_config().get("dialogue.session_idle_minutes"))
    last_answer = Message.objects.filter(session=OuterRef("pk"), role=Role.ASSISTANT).order_by(
        "-created_at", "-id"
    )
    over = ChatSession.objects.filter(
        last_activity_at__gte=since, last_activity_at__lt=min(until, timezone.now() - idle)
    )
    total = over.count()
    dropped = (
        over.filter(handoff_reason="")
        .annotate(
            last_low=Subquery(last_answer.values("low_confidence")[:1]),
            last_error=Subquery(last_answer.values("error_type")[:1]),
        )
        .filter(Q(last_low=True) | Q(last_error__gt=""))
        .count()
    )
    return _ratio(dropped, total)
