"""Deployment checks of the Feishu channel."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Info, Tags, register


@register(Tags.security, deploy=True)
def secrets_key_is_set(app_configs, **kwargs) -> list:
    keys = [key.strip() for key in settings.FEISHU_SECRETS_KEY.split(",") if key.strip()]
    if not keys:
        return [
            Info(
                "FEISHU_SECRETS_KEY is not set: Feishu app secrets are encrypted with a key "
                "derived from SECRET_KEY, and become unreadable if SECRET_KEY changes.",
                id="feishu.I001",
            )
        ]
    problems = []
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError:
            problems.append(
                Error(
                    "FEISHU_SECRETS_KEY holds a value that is not a Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    id="feishu.E001",
                )
            )
    return problems
