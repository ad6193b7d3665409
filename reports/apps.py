from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # lazy: the receivers import models, which needs the app registry ready
        from reports import signals  # noqa: F401
