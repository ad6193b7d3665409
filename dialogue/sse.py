"""The chat stream's Server-Sent Events: `delta` {text}..., then `done` (or `error`)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

from django.utils.translation import gettext as _

from dialogue import pipeline
from dialogue.live import frames
from dialogue.pipeline.store import TurnStore

logger = logging.getLogger(__name__)


def _sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _final_event(reply: pipeline.Reply) -> dict:
    answer = reply.answer
    return {
        "session": reply.session.pk,
        "session_status": reply.session.status,
        "work_order": reply.session.work_order_id,
        "message": reply.user_message.pk,
        "answer": answer.pk if answer else None,
        "text": reply.text,
        "citations": answer.citations if answer else [],
        "sources": frames.sources(answer, reply.titles) if answer else [],
        "confidence": answer.confidence if answer else None,
        "low_confidence": answer.low_confidence if answer else False,
        "kb_only": answer.kb_only if answer else False,
        "error_type": answer.error_type if answer else "",
        "duplicate": reply.duplicate,
        "handed_off": reply.handed_off,
        "usage": {
            "prompt_tokens": answer.prompt_tokens if answer else None,
            "completion_tokens": answer.completion_tokens if answer else None,
            "latency_ms": answer.latency_ms if answer else None,
            "first_token_ms": answer.first_token_ms if answer else None,
        },
    }


async def event_stream(turn: pipeline.Turn, *, store: TurnStore) -> AsyncIterator[bytes]:
    try:
        async for item in pipeline.stream(turn, store=store):
            if isinstance(item, pipeline.Delta):
                yield _sse("delta", {"text": item.text})
            else:
                yield _sse("done", _final_event(item))
    except Exception:
        logger.exception("Chat stream of session %s failed", turn.session.pk)
        yield _sse("error", {"message": str(_("The answer could not be completed."))})
