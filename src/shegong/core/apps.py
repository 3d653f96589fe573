from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shegong.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(_sqlite_pinyin_collation)


def _pinyin_key(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(text or "", style=Style.TONE3, errors="default"))


def _compare_pinyin(left: str, right: str) -> int:
    a, b = _pinyin_key(left), _pinyin_key(right)
    return (a > b) - (a < b) or (left > right) - (left < right)


def _sqlite_pinyin_collation(sender, connection, **kwargs) -> None:
    """SQLite sorts Chinese names by pinyin with the ``pinyin`` collation
    (``core.lists.pinyin_order``; PostgreSQL uses ICU's ``zh-x-icu``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation("pinyin", _compare_pinyin)
