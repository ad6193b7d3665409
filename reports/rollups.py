"""The per-day aggregates behind the dashboard, computed from the source rows.

Both functions read the active tenant's rows in one or more windows [since, until) and group
them by the local day of `zone` (no two windows share a local day). They serve the stored
rollups (complete days, `reports.services`) and the live parts of a period and of the period
before it (the days in progress, read together) alike, so both are counted the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDate

from dialogue.models import ChatSession, Message, Role
from llm.choices import Outcome
from llm.models import LLMCall
from llm.selectors import token_cost_sums

ACTIVITY_FIELDS = (
    "conversations",
    "handed_off",
    "answered_without_handoff",
    "rated_conversations",
    "rating_sum",
    "answers",
    "knowledge_hits",
    "low_confidence",
    "failed_answers",
    "thumbs_up",
    "thumbs_down",
)
USAGE_FIELDS = ("calls", "errors", "prompt_tokens", "completion_tokens", "cost")

_ANSWERED = Q(error_type="")

Window = tuple[datetime, datetime]


def _within(column: str, windows: Sequence[Window]) -> Q:
    condition = Q()
    for since, until in windows:
        condition |= Q(**{f"{column}__gte": since, f"{column}__lt": until})
    return condition


def empty_activity() -> dict[str, int]:
    return dict.fromkeys(ACTIVITY_FIELDS, 0)


def activity_by_day(windows: Sequence[Window], zone: ZoneInfo) -> dict[date, dict]:
    """Conversations by the day they started, answers by the day they were given.

    A conversation counts as handed off once it has a hand-off reason, and as answered
    without hand-off when it was not handed off and got at least one reply (two messages).
    Answers are the assistant's messages without an error; failed ones are counted apart.
    """
    days: dict[date, dict[str, int]] = defaultdict(empty_activity)
    if not windows:
        return {}
    # Aggregates are named n_<field>: a bare name would shadow the column it filters on.
    sessions = (
        ChatSession.objects.filter(_within("started_at", windows))
        .annotate(day=TruncDate("started_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(
            n_conversations=Count("id"),
            n_handed_off=Count("id", filter=~Q(handoff_reason="")),
            n_answered_without_handoff=Count(
                "id", filter=Q(handoff_reason="", message_count__gte=2)
            ),
            n_rated_conversations=Count("satisfaction"),
            n_rating_sum=Coalesce(Sum("satisfaction"), 0),
        )
    )
    answers = (
        Message.objects.filter(_within("created_at", windows), role=Role.ASSISTANT)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(
            n_answers=Count("id", filter=_ANSWERED),
            n_knowledge_hits=Count("id", filter=_ANSWERED & ~Q(citations=[])),
            n_low_confidence=Count("id", filter=_ANSWERED & Q(low_confidence=True)),
            n_failed_answers=Count("id", filter=~_ANSWERED),
            n_thumbs_up=Count("id", filter=Q(thumbs_up=True)),
            n_thumbs_down=Count("id", filter=Q(thumbs_up=False)),
        )
    )
    for row in [*sessions, *answers]:
        day = row.pop("day")
        days[day].update({name.removeprefix("n_"): value for name, value in row.items()})
    return dict(days)


def usage_by_day(windows: Sequence[Window], zone: ZoneInfo) -> list[dict[str, Any]]:
    """LLM calls per day, model and purpose: calls, errors, tokens and cost."""
    if not windows:
        return []
    rows = (
        LLMCall.objects.filter(_within("created_at", windows))
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .order_by()
        .values("day", "model", "purpose")
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=Q(outcome=Outcome.ERROR)),
            **token_cost_sums(),
        )
    )
    return list(rows)
