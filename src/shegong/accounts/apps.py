from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "shegong.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from shegong.accounts import signals  # noqa: F401  (connects login auditing)
        from shegong.accounts.io import USER_IMPORT_KIND, import_users
        from shegong.core.jobs import register_import

        register_import(
            USER_IMPORT_KIND, perm="accounts.add_user", run=import_users, label=_("Users")
        )
