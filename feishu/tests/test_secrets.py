"""Secrets at rest: Fernet under FEISHU_SECRETS_KEY, rotation, and no secret in a repr."""

import pytest
from cryptography.fernet import Fernet

from feishu.encryption import Secret, decrypt_secret, encrypt_secret, mask


def test_round_trip_and_ciphertext_differs_each_time(settings):
    settings.FEISHU_SECRETS_KEY = Fernet.generate_key().decode()
    first, second = encrypt_secret("app-secret"), encrypt_secret("app-secret")
    assert first != second and "app-secret" not in first
    assert decrypt_secret(first) == decrypt_secret(second) == "app-secret"


def test_rotation_reads_old_values_with_the_old_key_listed_second(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FEISHU_SECRETS_KEY = old
    stored = encrypt_secret("value")
    settings.FEISHU_SECRETS_KEY = f"{new},{old}"
    assert decrypt_secret(stored) == "value"
    settings.FEISHU_SECRETS_KEY = new
    with pytest.raises(ValueError, match="cannot be decrypted"):
        decrypt_secret(stored)


def test_plain_text_in_the_column_is_refused():
    with pytest.raises(ValueError, match="not encrypted"):
        decrypt_secret("plain")


def test_a_secret_never_shows_in_repr_or_the_mask():
    secret = Secret("very-secret")
    assert "very-secret" not in repr(secret) and "very-secret" not in repr([secret])
    assert mask(secret) == "••••••" and mask("") == ""
