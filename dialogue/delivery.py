"""Staff messages reach customers on channels without a live page of ours (Feishu): such
a channel names its deliverer, `deliver(*, session, message)`, in
`settings.HELPDESK_CHANNEL_DELIVERY` (channel -> dotted path); it is called once the
message is committed and should only enqueue the sending."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from dialogue.models import ChatSession, Message


def deliver_on_commit(session: ChatSession, message: Message) -> None:
    path = settings.HELPDESK_CHANNEL_DELIVERY.get(session.channel)
    if path:
        deliver = import_string(path)
        transaction.on_commit(partial(deliver, session=session, message=message), robust=True)
