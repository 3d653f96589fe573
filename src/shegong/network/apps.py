from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "shegong.network"
    label = "network"
    verbose_name = _("Service network")

    def ready(self) -> None:
        from shegong.network import tasks

        tasks.register()
