from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        # lazy: the signal handlers need the models, which are ready only now.
        from knowledge.search_cache import connect_signals

        connect_signals()
