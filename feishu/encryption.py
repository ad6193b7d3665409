"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

The key comes from the environment: `FEISHU_SECRETS_KEY` (a Fernet key, 32 url-safe
base64 bytes; several separated by commas to rotate: the first encrypts, all decrypt).
Without it the key is derived from `SECRET_KEY`, and `check --deploy` warns.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"
MASK = "••••••"


@cache
def _fernet(keys: str, secret_key: str) -> MultiFernet:
    if keys:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    derived = hashlib.sha256(f"feishu-secrets:{secret_key}".encode()).digest()
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def fernet() -> MultiFernet:
    return _fernet(getattr(settings, "FEISHU_SECRETS_KEY", ""), settings.SECRET_KEY)


def encrypt_secret(value: str) -> str:
    if not value:
        return ""
    return PREFIX + fernet().encrypt(value.encode()).decode()


def decrypt_secret(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise ValueError("A stored secret is not encrypted.")
    try:
        return fernet().decrypt(stored.removeprefix(PREFIX).encode()).decode()
    except InvalidToken:
        raise ValueError("A stored secret cannot be decrypted with FEISHU_SECRETS_KEY.") from None


def mask(value: str) -> str:
    """What people see of a secret: whether it is set, never its text."""
    return MASK if value else ""


class Secret(str):
    """A decrypted secret whose repr never shows it (tracebacks, debug pages, logs)."""

    def __repr__(self) -> str:
        return f"Secret({mask(self)!r})"


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code reads and writes plain `Secret` strings."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else Secret(decrypt_secret(value))

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt_secret(value) if value else value
