""" "Questions we could not answer": customer questions that ended in a hand-off, a
low-confidence answer or a thumbs down, grouped by similarity of their segmented text.

The newest MAX_QUESTIONS of each kind in the window are read (indexed, newest first), so
the cost does not grow with the period; groups are ordered by size, largest first.

The groups are computed from the rows on every request, so they are always current: there
is no cache to keep right. What makes that cheap (about 15 ms for 1,000 questions) is that
each wording is segmented and weighted once, and a wording asked again is compared only
with the groups made since it was last compared (see `_Match`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q

from dialogue.models import ChatSession, Message, Role
from helpdesk.config import get_config
from helpdesk.tenancy import current_tenant
from knowledge.text import token_weight
from knowledge.vocabulary import segmenter_for

MAX_QUESTIONS = 500
# Two questions whose segmented texts are at least this similar go in one group.
GROUP_SIMILARITY = 0.5
EXAMPLES = 5
# A hand-off request ("转人工") is not a question: skip texts that are little more than one.
HANDOFF_REQUEST_LEFTOVER = 2


class Reason:
    HANDOFF = "handoff"
    LOW_CONFIDENCE = "low_confidence"
    THUMBS_DOWN = "thumbs_down"


@dataclass
class Question:
    message_id: int
    text: str
    at: datetime
    reasons: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Vector:
    """Segmented tokens weighted as `knowledge.text.weighted_cosine` weighs them (token
    weight times count), with the norm computed once: grouping compares each question
    with many groups."""

    weights: dict[str, float]
    norm: float

    @classmethod
    def of(cls, tokens: list[str]) -> Vector:
        weights = {token: token_weight(token) * n for token, n in Counter(tokens).items()}
        return cls(weights=weights, norm=math.sqrt(sum(w * w for w in weights.values())))

    def cosine(self, other: Vector) -> float:
        small, large = sorted((self.weights, other.weights), key=len)
        dot = sum(weight * large.get(token, 0.0) for token, weight in small.items())
        return dot / (self.norm * other.norm)


@dataclass
class QuestionGroup:
    question: Question  # the newest of the group: its text names the group
    vector: Vector
    members: list[Question] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.members)

    def as_dict(self) -> dict:
        reasons = Counter(reason for member in self.members for reason in member.reasons)
        return {
            "question": self.question.text,
            "message_id": self.question.message_id,
            "count": self.count,
            "last_at": self.question.at,
            "reasons": {
                name: reasons.get(name, 0)
                for name in (Reason.HANDOFF, Reason.LOW_CONFIDENCE, Reason.THUMBS_DOWN)
            },
            "examples": [m.text for m in self.members[1 : EXAMPLES + 1]],
        }


def _poorly_answered(since: datetime, until: datetime) -> list[Question]:
    answers = (
        Message.objects.filter(role=Role.ASSISTANT, created_at__gte=since, created_at__lt=until)
        .filter(Q(low_confidence=True) | Q(thumbs_up=False))
        .exclude(reply_to=None)
        .order_by("-created_at", "-id")
        .values_list(
            "reply_to_id", "reply_to__content", "created_at", "low_confidence", "thumbs_up"
        )
    )[:MAX_QUESTIONS]
    return [
        Question(
            message_id=message_id,
            text=text,
            at=at,
            reasons={
                reason
                for reason, applies in (
                    (Reason.LOW_CONFIDENCE, low),
                    (Reason.THUMBS_DOWN, thumbs_up is False),
                )
                if applies
            },
        )
        for message_id, text, at, low, thumbs_up in answers
    ]


def _is_handoff_request(text: str, keywords: list[str]) -> bool:
    stripped = text
    for keyword in keywords:
        if keyword:
            stripped = stripped.replace(keyword, "")
    return len(stripped.strip(" ，。!！?？,.")) <= HANDOFF_REQUEST_LEFTOVER


def _handed_off(since: datetime, until: datetime) -> list[Question]:
    """The first real question of each conversation handed off in the window."""
    sessions = dict(
        ChatSession.objects.filter(handed_off_at__gte=since, handed_off_at__lt=until)
        .exclude(handoff_reason="")
        .order_by("-handed_off_at", "-id")
        .values_list("id", "handed_off_at")[:MAX_QUESTIONS]
    )
    keywords = get_config().get("dialogue.handoff_keywords")
    first: dict[int, Question] = {}
    messages = (
        Message.objects.filter(session_id__in=list(sessions), role=Role.USER)
        .order_by("session_id", "created_at", "id")
        .values_list("session_id", "id", "content")
    )
    for session_id, message_id, text in messages:
        if session_id not in first and not _is_handoff_request(text, keywords):
            first[session_id] = Question(
                message_id=message_id, text=text, at=sessions[session_id], reasons={Reason.HANDOFF}
            )
    return list(first.values())


def unanswered_questions(since: datetime, until: datetime) -> list[Question]:
    """Every question once (its reasons merged), newest first."""
    by_id: dict[int, Question] = {}
    for question in [*_poorly_answered(since, until), *_handed_off(since, until)]:
        known = by_id.get(question.message_id)
        if known is None:
            by_id[question.message_id] = question
        else:
            known.reasons |= question.reasons
            known.at = max(known.at, question.at)
    return sorted(by_id.values(), key=lambda q: (q.at, q.message_id), reverse=True)


@dataclass
class _Match:
    """The best group so far for one wording: groups are never changed once made (a group
    keeps its first question's vector), so a wording asked again is compared only with the
    groups made since."""

    vector: Vector
    best: int | None = None
    score: float = 0.0
    compared: int = 0  # groups[:compared] are done


def group_questions(questions: list[Question]) -> list[QuestionGroup]:
    """Greedy grouping, newest first: a question joins the most similar group that shares a
    token with it (the older one on a tie), when similar enough, or starts a new one."""
    segmenter = segmenter_for(current_tenant().pk)
    matches: dict[str, _Match] = {}
    groups: list[QuestionGroup] = []
    by_token: dict[str, list[int]] = defaultdict(list)
    for question in questions:
        match = matches.get(question.text)
        if match is None:
            match = matches[question.text] = _Match(Vector.of(segmenter.segment(question.text)))
        if not match.vector.weights:
            continue
        candidates = {
            index
            for token in match.vector.weights
            for index in by_token.get(token, ())
            if index >= match.compared
        }
        for index in sorted(candidates):
            score = match.vector.cosine(groups[index].vector)
            if score > match.score:
                match.best, match.score = index, score
        match.compared = len(groups)
        if match.best is not None and match.score >= GROUP_SIMILARITY:
            groups[match.best].members.append(question)
            continue
        groups.append(QuestionGroup(question=question, vector=match.vector, members=[question]))
        for token in match.vector.weights:
            by_token[token].append(len(groups) - 1)
    return sorted(groups, key=lambda g: (g.count, g.question.at), reverse=True)


def unanswered_groups(since: datetime, until: datetime, limit: int | None = None) -> list[dict]:
    groups = group_questions(unanswered_questions(since, until))
    return [group.as_dict() for group in groups[:limit]]
