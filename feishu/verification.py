"""Opening a Feishu callback: decrypt, check the signature, the token and the time.

Feishu documents the scheme (and lark-oapi implements it): the body is
`{"encrypt": base64(iv + AES-256-CBC(PKCS#7(json)))}` with key = SHA-256(encrypt key);
`X-Lark-Signature` is hex SHA-256(timestamp + nonce + encrypt key + raw body). Unlike the
SDK's dispatcher, which answers 500 to anything wrong, every refusal here is a 4xx with a
reason, and requests older than the replay window are refused too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from feishu.inbound import json_object

Json = dict[str, Any]
BLOCK = 16


class CallbackRejected(Exception):
    """A callback that is refused: `status` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Callback:
    payload: Json
    challenge: str | None = None


def decrypt(encrypted: str, encrypt_key: str) -> str:
    """The plaintext of an encrypted body; ValueError when it is not valid ciphertext."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64") from None
    if len(raw) < 2 * BLOCK or len(raw) % BLOCK:
        raise ValueError("bad ciphertext length")
    key = hashlib.sha256(encrypt_key.encode()).digest()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:BLOCK])).decryptor()
    padded = decryptor.update(raw[BLOCK:]) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(padded) + unpadder.finalize()
        return plain.decode()
    except (ValueError, UnicodeDecodeError):
        raise ValueError("bad padding or key") from None


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def _json_object(text: str | bytes) -> Json:
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRejected(400, "body is not JSON") from None
    if not isinstance(value, dict):
        raise CallbackRejected(400, "body is not a JSON object")
    return value


def _token(payload: Json) -> str:
    header = payload.get("header")
    token = header.get("token") if isinstance(header, dict) else payload.get("token")
    return token if isinstance(token, str) else ""


def _check_signature(headers: Mapping[str, str], body: bytes, encrypt_key: str) -> None:
    timestamp = headers.get("X-Lark-Request-Timestamp", "")
    nonce = headers.get("X-Lark-Request-Nonce", "")
    given = headers.get("X-Lark-Signature", "")
    expected = signature(timestamp, nonce, encrypt_key, body)
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CallbackRejected(401, "signature does not match")


def _check_time(headers: Mapping[str, str], payload: Json, window: int, now: float) -> None:
    stamp = headers.get("X-Lark-Request-Timestamp")
    try:
        if stamp:
            sent = float(stamp)
        else:
            sent = float(json_object(payload, "header").get("create_time")) / 1000
    except (TypeError, ValueError):
        raise CallbackRejected(400, "request time missing or malformed") from None
    if abs(now - sent) > window:
        raise CallbackRejected(401, "request is outside the replay window")


def open_callback(
    *,
    body: bytes,
    headers: Mapping[str, str],
    encrypt_key: str,
    verification_token: str,
    window_seconds: int,
    now: float | None = None,
) -> Callback:
    """Decrypt and verify one callback request, or raise CallbackRejected."""
    outer = _json_object(body)
    if "encrypt" in outer:
        if not encrypt_key:
            raise CallbackRejected(400, "encrypted body but no encrypt key is configured")
        try:
            payload = _json_object(decrypt(str(outer["encrypt"]), encrypt_key))
        except ValueError:
            raise CallbackRejected(400, "body cannot be decrypted with the encrypt key") from None
    elif encrypt_key:
        raise CallbackRejected(400, "body is not encrypted but an encrypt key is configured")
    else:
        payload = outer

    if verification_token and not hmac.compare_digest(
        _token(payload).encode(), verification_token.encode()
    ):
        raise CallbackRejected(401, "verification token does not match")
    if payload.get("type") == "url_verification":
        challenge = payload.get("challenge")
        if not isinstance(challenge, str):
            raise CallbackRejected(400, "challenge missing")
        return Callback(payload, challenge=challenge)
    if not verification_token and not encrypt_key:
        raise CallbackRejected(403, "the app has neither a verification token nor an encrypt key")
    if encrypt_key:
        _check_signature(headers, body, encrypt_key)
    _check_time(headers, payload, window_seconds, time.time() if now is None else now)
    return Callback(payload)
