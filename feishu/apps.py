from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeishuConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feishu"
    verbose_name = _("Feishu (Lark)")

    def ready(self) -> None:
        # lazy: registers the checks once the settings and apps are loaded.
        from feishu import checks  # noqa: F401
        from feishu.signals import connect_signals  # lazy: models exist once apps are ready

        connect_signals()
