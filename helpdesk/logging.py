"""A logging filter that masks the values of secret configuration keys."""

import logging
import os

from helpdesk.config import SECRET_MASK, get_config


class RedactSecretsFilter(logging.Filter):
    """Masks secrets in the message and in the traceback of an exception being logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _secret_values()
        if not secrets:
            return True
        message = record.getMessage()
        redacted = _redacted(message, secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_text is None:
            # Formatters reuse exc_text when it is set, so the traceback goes out masked.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _redacted(record.exc_text, secrets)
        return True


def _redacted(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, SECRET_MASK)
    return text


def _secret_values() -> list[str]:
    try:
        config = get_config()
        values = [config.get(k.key) for k in config.declarations() if k.secret]
    except Exception:
        values = []
    values.append(os.environ.get("SECRET_KEY", ""))
    return [v for v in values if isinstance(v, str) and len(v) >= 6]
