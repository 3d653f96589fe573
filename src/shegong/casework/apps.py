from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "shegong.casework"
    label = "casework"
    verbose_name = _("Services to residents")
