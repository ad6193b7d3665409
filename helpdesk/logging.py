"""A logging filter that masks the values of secret configuration keys."""

import logging
import os

from helpdesk.config import SECRET_MASK


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _secret_values()
        if not secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in secrets:
            redacted = redacted.replace(secret, SECRET_MASK)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _secret_values() -> list[str]:
    try:
        from helpdesk.config import get_config

        config = get_config()
        values = [config.get(k.key) for k in config.declarations() if k.secret]
    except Exception:
        values = []
    values.append(os.environ.get("SECRET_KEY", ""))
    return [v for v in values if isinstance(v, str) and len(v) >= 6]
