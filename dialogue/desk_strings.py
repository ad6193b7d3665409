"""Every string the staff desk's scripts (static/dialogue/desk/) show, in the request's
language (the page's labels of statuses, channels and roles come from the models)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def desk_strings() -> dict[str, str]:
    return {
        "connecting": _("Connecting…"),
        "connected": _("Live"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "offline": _("The desk is not connected. Try again in a moment."),
        "loading": _("Loading…"),
        "customer": _("Customer"),
        "customer_typing": _("The customer is typing…"),
        "unassigned": _("Unassigned"),
        "assistant_handles": _("The AI assistant is answering"),
        "handled_by": _("Handled by %(name)s"),
        "me": _("%(name)s (you)"),
        "no_messages": _("No messages yet"),
        "empty_open": _("Nobody is waiting. New conversations appear here at once."),
        "empty_mine": _("You have no conversations. Claim one from Waiting."),
        "empty_all": _("No conversations are going on."),
        "just_now": _("just now"),
        "minutes_ago": _("%(count)s min"),
        "hours_ago": _("%(count)s h"),
        "days_ago": _("%(count)s d"),
        "internal_note": _("Internal note"),
        "low_confidence": _("Low confidence"),
        "kb_only": _("Knowledge base only"),
        "rated_helpful": _("Rated helpful"),
        "rated_unhelpful": _("Rated not helpful"),
        "sources": _("Sources:"),
        "priority": _("Priority: %(priority)s"),
        "open_work_order": _("Open the work order"),
        "message_count": _("%(count)s messages"),
        "transfer_choose": _("Transfer to…"),
        "transfer_nobody": _("No other agent is at a desk"),
        "end_confirm": _("End this conversation for the customer?"),
        "reply_placeholder": _("Write a reply… (Enter to send, Shift+Enter for a new line)"),
        "note_placeholder": _("Write an internal note: the customer never sees it."),
        "send": _("Send"),
        "add_note": _("Add note"),
        "verified": _("Verified"),
        "insert_answer": _("Insert"),
        "entry_linked": _(
            "Built on “%(question)s”: the customer's questions will be proposed as its "
            "similar questions."
        ),
        "wrong_answer": _("Wrong answer"),
        "wrong_answer_hint": _("Mark this answer as wrong and pick the right knowledge entry"),
        "corrected": _("Marked wrong"),
        "correct_prompt": _("Find the right answer to replace “%(answer)s”."),
        "right_answer": _("This is the right answer"),
        "correct_done_proposed": _(
            "Marked as wrong. “%(text)s” is proposed as a similar question of the right entry."
        ),
        "correct_done": _("Marked as wrong. The right entry already has this wording."),
        "no_hits": _("Nothing found."),
        "nobody_at_desk": _("Nobody is at a desk."),
        "sound_on": _("Sound on"),
        "sound_off": _("Sound off"),
        "notification_title": _("A customer is waiting: %(customer)s"),
    }
