import functools

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "shegong.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(_sqlite_pinyin_collation)


@functools.lru_cache(maxsize=65536)
def _pinyin_key(text: str) -> tuple[tuple[int, str], ...]:
    """A sort key ordered as ICU's ``zh`` collation orders: punctuation and spaces, then
    digits, then Chinese characters by pinyin, then Latin letters regardless of case."""
    from pypinyin import Style, lazy_pinyin

    def other(chunk: str) -> list[str]:
        return ["\0" + character for character in chunk]

    key = []
    for token in lazy_pinyin(text or "", style=Style.TONE3, errors=other):
        if not token.startswith("\0"):
            key.append((2, token))
            continue
        character = token[1]
        if character.isdigit():
            key.append((1, character))
        elif character.isalpha():
            key.append((3, character.casefold()))
        else:
            key.append((0, character))
    return tuple(key)


def _compare_pinyin(left: str, right: str) -> int:
    a, b = _pinyin_key(left), _pinyin_key(right)
    return (a > b) - (a < b) or (left > right) - (left < right)


def _sqlite_pinyin_collation(sender, connection, **kwargs) -> None:
    """SQLite sorts Chinese names by pinyin with the ``pinyin`` collation
    (``core.lists.pinyin_order``; PostgreSQL uses ICU's ``zh-x-icu``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_collation("pinyin", _compare_pinyin)
