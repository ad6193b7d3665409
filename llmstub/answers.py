"""Deterministic answers: what the stub says, how long it takes, and the JSON it sends."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from llm.tokens import estimate_tokens
from llmstub.state import (
    CITATION_RE,
    FILLER_WORDS,
    MAX_CITATIONS,
    QUOTE_CHARS,
    HttpError,
    Json,
    StubState,
    check_fault,
    parse_number,
)

# --- deterministic answers -------------------------------------------------------------


def message_text(message: Json) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def prompt_tokens(messages: list[Json]) -> int:
    # Same per-message overhead as OpenAI's published counting recipe.
    return 3 + sum(4 + estimate_tokens(message_text(m)) for m in messages)


def request_digest(messages: list[Json]) -> str:
    canonical = json.dumps(messages, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:8]


def cited_numbers(messages: list[Json]) -> list[str]:
    found: list[str] = []
    for message in messages:
        if message.get("role") in ("system", "developer", "user"):
            for number in CITATION_RE.findall(message_text(message)):
                if number not in found:
                    found.append(number)
    return found[:MAX_CITATIONS]


def quote_of_last_user_message(messages: list[Json]) -> str | None:
    for message in reversed(messages):
        if message.get("role") == "user":
            text = " ".join(message_text(message).split())
            return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"
    return None


def answer_tokens(messages: list[Json], count: int) -> list[str]:
    """The first ``count`` tokens of the answer to ``messages``, same request, same answer."""
    tokens = ["Stub", " answer", " " + request_digest(messages)]
    tokens += [f" [{n}]" for n in cited_numbers(messages)]
    quote = quote_of_last_user_message(messages)
    if quote is not None:
        tokens.append(f" re: “{quote}”")
    while len(tokens) < count:
        tokens.append(" " + FILLER_WORDS[len(tokens) % len(FILLER_WORDS)])
    return tokens[:count]


# --- request plan -----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything needed to answer one chat completion request."""

    body: Json
    messages: list[Json]
    model: str
    stream: bool
    include_usage: bool
    tokens: list[str]
    finish_reason: str
    latency: float
    token_delay: float
    fault: str | None
    completion_id: str

    @property
    def usage(self) -> Json:
        prompt = prompt_tokens(self.messages)
        completion = len(self.tokens)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }


def parse_body(raw: bytes) -> Json:
    try:
        body = json.loads(raw or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HttpError(400, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise HttpError(400, "request body must be a JSON object")
    return body


def header_number(headers: dict[str, str], name: str, default: float) -> float:
    if name not in headers:
        return default
    value = parse_number(name, headers[name])
    if value < 0:
        raise HttpError(400, f"{name} must not be negative")
    return value


def build_plan(body: Json, headers: dict[str, str], state: StubState, serial: int) -> Plan:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise HttpError(400, "messages must be a non-empty array")
    if not all(isinstance(m, dict) for m in messages):
        raise HttpError(400, "every message must be an object")
    config = state.config
    wanted = int(header_number(headers, "x-stub-tokens", config.tokens))
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    capped = isinstance(limit, int) and 0 < limit < wanted
    count = limit if capped else wanted
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise HttpError(400, "stream_options must be an object")
    fault = headers.get("x-stub-fault")
    return Plan(
        body=body,
        messages=messages,
        model=str(body.get("model") or config.model),
        stream=bool(body.get("stream")),
        include_usage=bool(stream_options.get("include_usage")),
        tokens=answer_tokens(messages, count),
        finish_reason="length" if capped else "stop",
        latency=header_number(headers, "x-stub-latency-ms", config.latency_ms) / 1000,
        token_delay=header_number(headers, "x-stub-token-delay-ms", config.token_delay_ms) / 1000,
        fault=check_fault(fault) if fault else state.next_fault(),
        completion_id=f"chatcmpl-stub{serial:06d}{request_digest(messages)}",
    )


def completion_json(plan: Plan) -> Json:
    return {
        "id": plan.completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": plan.model,
        "system_fingerprint": "fp_llmstub",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(plan.tokens), "refusal": None},
                "logprobs": None,
                "finish_reason": plan.finish_reason,
            }
        ],
        "usage": plan.usage,
    }


def chunk_json(plan: Plan, created: int, delta: Json, finish_reason: str | None = None) -> Json:
    chunk: Json = {
        "id": plan.completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": plan.model,
        "system_fingerprint": "fp_llmstub",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if plan.include_usage:
        chunk["usage"] = None
    return chunk


def usage_chunk_json(plan: Plan, created: int) -> Json:
    chunk = chunk_json(plan, created, {})
    chunk["choices"] = []
    chunk["usage"] = plan.usage
    return chunk


def error_json(message: str, error_type: str, code: str | None = None) -> Json:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}
