"""Password hashers: bcrypt by default, and the old system's unsalted SHA-256.

Django re-hashes a password with the first (preferred) hasher on a successful
login whenever the stored hash used another one, so legacy users move to
bcrypt the first time they log in.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import hashers
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _noop


class BCryptSHA256PasswordHasher(hashers.BCryptSHA256PasswordHasher):
    """Django's bcrypt hasher with the work factor from settings.BCRYPT_ROUNDS."""

    @property
    def rounds(self) -> int:  # type: ignore[override]
        return settings.BCRYPT_ROUNDS


class LegacySHA256PasswordHasher(hashers.BasePasswordHasher):
    """Verifies `legacy_sha256$$<64 hex>`: sha256(password) without salt, as exported."""

    algorithm = "legacy_sha256"

    def salt(self) -> str:
        return ""

    def encode(self, password: str, salt: str) -> str:
        if salt:
            raise ValueError("The legacy SHA-256 format has no salt.")
        return self.encode_digest(hashlib.sha256(password.encode()).hexdigest())

    def encode_digest(self, hex_digest: str) -> str:
        return f"{self.algorithm}$${hex_digest.lower()}"

    def decode(self, encoded: str) -> dict:
        algorithm, salt, hex_digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": hex_digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        expected = self.decode(encoded)["hash"]
        actual = hashlib.sha256(password.encode()).hexdigest()
        return constant_time_compare(actual, expected)

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            _noop("algorithm"): decoded["algorithm"],
            _noop("hash"): hashers.mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return True

    def harden_runtime(self, password: str, encoded: str) -> None:
        pass
