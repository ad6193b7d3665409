"""Customer wordings proposed as similar questions, for staff to approve with one click.

Two moments make a proposal (the dialogue app calls these when they happen):
- staff resolve a handed-off conversation with a knowledge entry:
  `proposals_for_resolved_session(session=..., entry=..., actor=...)` proposes the
  customer's questions in that conversation;
- staff mark an assistant answer as wrong and pick the right entry:
  `proposal_for_corrected_answer(message=..., entry=..., actor=...)` proposes the
  customer's message that the answer replied to.
A wording the entry already has (question, similar question, or a pending proposal) is not
proposed again. Approving adds it as a similar question (indexed and embedded like one).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from knowledge import text
from knowledge.models import SIMILAR_MAX, KnowledgeEntry, SimilarQuestion, WordingProposal
from knowledge.similar_questions import similar_questions_add

CUSTOMER_ROLE = "user"
MIN_CHARS = 2
MAX_PER_SESSION = 3
# Messages that ask for a person rather than for an answer.
HANDOFF_WORDS = ("转人工", "人工客服", "找人工", "真人", "human", "agent")


def _worth_proposing(wording: str) -> bool:
    compact = "".join(wording.split())
    if len(compact) < MIN_CHARS or len(wording) > SIMILAR_MAX:
        return False
    lowered = text.normalise(compact)
    return not any(word in lowered and len(lowered) <= len(word) + 4 for word in HANDOFF_WORDS)


def _known_wordings(entry: KnowledgeEntry) -> set[str]:
    known = {text.normalise(entry.question)}
    known |= {text.normalise(t) for t in entry.similar_questions.values_list("text", flat=True)}
    known |= {
        text.normalise(t)
        for t in entry.wording_proposals.filter(
            status__in=[WordingProposal.Status.PENDING, WordingProposal.Status.REJECTED]
        ).values_list("text", flat=True)
    }
    return known


@transaction.atomic
def proposal_create(
    *,
    entry: KnowledgeEntry,
    wording: str,
    reason: str,
    message: Any = None,
    actor: Any = None,
) -> WordingProposal | None:
    """A pending proposal, or None when the wording is not worth one or already known."""
    if reason not in WordingProposal.Reason.values:
        raise ValidationError({"reason": _("Unknown reason.")})
    wording = " ".join(str(wording or "").split())
    if not _worth_proposing(wording) or text.normalise(wording) in _known_wordings(entry):
        return None
    return WordingProposal.objects.create(
        entry=entry, text=wording, reason=reason, message=message, proposed_by=actor
    )


@transaction.atomic
def proposals_for_resolved_session(
    *, session: Any, entry: KnowledgeEntry, actor: Any = None
) -> list[WordingProposal]:
    """Propose the customer's questions of a handed-off conversation that staff resolved
    with `entry` (the latest MAX_PER_SESSION worth proposing)."""
    messages = list(session.messages.filter(role=CUSTOMER_ROLE).order_by("-created_at", "-id"))
    made: list[WordingProposal] = []
    for message in messages:
        if len(made) >= MAX_PER_SESSION:
            break
        proposal = proposal_create(
            entry=entry,
            wording=message.content,
            reason=WordingProposal.Reason.HANDOFF_RESOLVED,
            message=message,
            actor=actor,
        )
        if proposal is not None:
            made.append(proposal)
    return made


@transaction.atomic
def proposal_for_corrected_answer(
    *, message: Any, entry: KnowledgeEntry, actor: Any = None
) -> WordingProposal | None:
    """Propose the customer's message that a wrong answer (`message`) replied to."""
    question = message.reply_to
    if question is None or question.role != CUSTOMER_ROLE:
        question = (
            message.session.messages.filter(role=CUSTOMER_ROLE, created_at__lte=message.created_at)
            .exclude(pk=message.pk)
            .order_by("-created_at", "-id")
            .first()
        )
    if question is None:
        return None
    return proposal_create(
        entry=entry,
        wording=question.content,
        reason=WordingProposal.Reason.ANSWER_CORRECTED,
        message=question,
        actor=actor,
    )


def _decide(proposal: WordingProposal, status: str, actor: Any) -> WordingProposal:
    proposal = WordingProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != WordingProposal.Status.PENDING:
        raise ValidationError({"status": _("This proposal was already decided.")})
    proposal.status = status
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return proposal


@transaction.atomic
def proposal_approve(*, proposal: WordingProposal, actor: Any = None) -> WordingProposal:
    """Add the wording to its entry as a similar question."""
    proposal = _decide(proposal, WordingProposal.Status.APPROVED, actor)
    similar_questions_add(
        entry=proposal.entry,
        texts=[proposal.text],
        actor=actor,
        source=SimilarQuestion.Source.PROPOSAL,
    )
    return proposal


@transaction.atomic
def proposal_reject(*, proposal: WordingProposal, actor: Any = None) -> WordingProposal:
    return _decide(proposal, WordingProposal.Status.REJECTED, actor)
