"""Start-up validation of the ConfigService: a bad value stops `manage.py check`."""

from django.core.checks import Error, register

from helpdesk.config import ConfigError, get_config


@register()
def configuration_is_valid(app_configs, **kwargs) -> list[Error]:
    try:
        get_config().validate_all()
    except ConfigError as exc:
        return [Error(f"Invalid configuration: {exc}", id="helpdesk.E001")]
    return []
