"""Deterministic embeddings for /v1/embeddings: hashed character n-grams, L2-normalised.

Texts that share characters get close vectors, so semantic search behaves plausibly in
tests without a model; the same text always gets the same vector. `input_type` (or a
"query"/"passage" model name) is accepted and ignored. Both encoding formats of the
OpenAI API are served: "float" and "base64" (little-endian float32, the SDK's default).
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import unicodedata

from llmstub.state import HttpError, Json

DEFAULT_DIMENSIONS = 384
MAX_DIMENSIONS = 4096
MAX_INPUTS = 2048


def text_vector(text: str, dimensions: int) -> list[float]:
    normalised = unicodedata.normalize("NFKC", text).lower()
    features = [c for c in normalised if not c.isspace()]
    features += [normalised[i : i + 2] for i in range(len(normalised) - 1)]
    vector = [0.0] * dimensions
    for feature in features:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dimensions
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _inputs(body: Json) -> list[str]:
    raw = body.get("input")
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items or len(items) > MAX_INPUTS:
        raise HttpError(400, f"input must be a string or an array of 1 to {MAX_INPUTS} strings")
    if not all(isinstance(item, str) for item in items):
        raise HttpError(400, "input must contain strings only (token arrays are not served)")
    return items


def _dimensions(body: Json) -> int:
    value = body.get("dimensions", DEFAULT_DIMENSIONS)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIMENSIONS:
        raise HttpError(400, f"dimensions must be an integer from 1 to {MAX_DIMENSIONS}")
    return value


def embeddings_json(body: Json, model: str) -> Json:
    texts = _inputs(body)
    dimensions = _dimensions(body)
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise HttpError(400, "encoding_format must be float or base64")
    data = []
    for index, text in enumerate(texts):
        vector = text_vector(text, dimensions)
        embedding: list[float] | str = vector
        if encoding == "base64":
            embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": embedding})
    tokens = sum(max(1, len(text)) for text in texts)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model") or model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
