"""What the open platform sends: event bodies, their encryption and their signature.

Encryption (documented by Feishu): key = SHA-256(encrypt key); body = base64(iv +
AES-256-CBC(PKCS#7(plaintext))). Signature header `X-Lark-Signature` = hex SHA-256 of
timestamp + nonce + encrypt key + raw body.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

Json = dict[str, Any]


def encrypt(plaintext: str, encrypt_key: str) -> str:
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(padded) + encryptor.finalize()).decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()


def signed_request(
    payload: Json, *, encrypt_key: str = "", timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers Feishu posts for `payload` (encrypted when there is a key)."""
    plain = json.dumps(payload, ensure_ascii=False)
    body = json.dumps({"encrypt": encrypt(plain, encrypt_key)} if encrypt_key else payload)
    raw = body.encode() if encrypt_key else plain.encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = secrets.token_hex(8)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Lark-Request-Timestamp": stamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Request-Id": secrets.token_hex(8),
    }
    if encrypt_key:
        headers["X-Lark-Signature"] = signature(stamp, nonce, encrypt_key, raw)
    return raw, headers


def _header(event_type: str, app_id: str, token: str) -> Json:
    return {
        "event_id": secrets.token_hex(16),
        "event_type": event_type,
        "create_time": str(int(time.time() * 1000)),
        "token": token,
        "app_id": app_id,
        "tenant_key": "stub-tenant",
    }


def message_event(
    *,
    app_id: str,
    token: str,
    text: str = "",
    open_id: str = "ou_user",
    chat_id: str = "oc_chat",
    chat_type: str = "p2p",
    message_id: str | None = None,
    message_type: str = "text",
    content: Json | None = None,
    mentions: list[Json] | None = None,
) -> Json:
    """An `im.message.receive_v1` event (schema 2.0)."""
    return {
        "schema": "2.0",
        "header": _header("im.message.receive_v1", app_id, token),
        "event": {
            "sender": {
                "sender_id": {"open_id": open_id, "union_id": f"on_{open_id}", "user_id": ""},
                "sender_type": "user",
                "tenant_key": "stub-tenant",
            },
            "message": {
                "message_id": message_id or f"om_{secrets.token_hex(12)}",
                "root_id": "",
                "parent_id": "",
                "create_time": str(int(time.time() * 1000)),
                "chat_id": chat_id,
                "chat_type": chat_type,
                "message_type": message_type,
                "content": json.dumps(content if content is not None else {"text": text}),
                "mentions": mentions or [],
            },
        },
    }


def mention(key: str, open_id: str, name: str) -> Json:
    return {"key": key, "id": {"open_id": open_id, "union_id": "", "user_id": ""}, "name": name}


def card_action(
    *,
    app_id: str,
    token: str,
    value: Json,
    open_id: str = "ou_user",
    message_id: str = "om_card",
    chat_id: str = "oc_chat",
) -> Json:
    """A `card.action.trigger` callback (schema 2.0): a button on a card was pressed."""
    return {
        "schema": "2.0",
        "header": _header("card.action.trigger", app_id, token),
        "event": {
            "operator": {"open_id": open_id, "tenant_key": "stub-tenant"},
            "token": f"c-{secrets.token_hex(8)}",
            "action": {"tag": "button", "value": value},
            "host": "im_message",
            "context": {"open_message_id": message_id, "open_chat_id": chat_id},
        },
    }


def url_verification(*, token: str, challenge: str) -> Json:
    return {"challenge": challenge, "token": token, "type": "url_verification"}
