from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "helpdesk"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        # lazy: the checks read the models, which are ready only now (registers them).
        from helpdesk import checks  # noqa: F401
