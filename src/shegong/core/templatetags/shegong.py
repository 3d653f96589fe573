"""Template filters for figures, one way each (issue #13 item 4): whole numbers and decimals
with digits grouped by three (``num``), money in tables (``money``: ¥32,500,000.00) and on
cards (``money_short``: 3,250万元, 1.01亿元), shares (``percent``: 38.6%)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()
DASH = "—"


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def num(value, places: int = 0) -> str:
    """``12345678.9|num:2`` → ``12,345,678.90``; ``63000|num`` → ``63,000``."""
    number = _decimal(value)
    if number is None:
        return DASH
    places = int(places)
    return number_format(_half_up(number, places), places, use_l10n=True, force_grouping=True)


@register.filter
def money(value) -> str:
    """An amount of yuan in a table: ``¥32,500,000.00`` (negative: ``-¥1,000.00``)."""
    number = _decimal(value)
    if number is None:
        return DASH
    text = number_format(_half_up(abs(number), 2), 2, use_l10n=True, force_grouping=True)
    return f"-¥{text}" if number < 0 else f"¥{text}"


@register.filter
def money_short(value) -> str:
    """An amount of yuan on a card: ``3,250万元`` / ``1.01亿元`` (English: ``¥32.5M``)."""
    number = _decimal(value)
    if number is None:
        return DASH
    if not (get_language() or "zh").startswith("zh"):
        for unit, word in (
            (Decimal(10) ** 9, "B"),
            (Decimal(10) ** 6, "M"),
            (Decimal(10) ** 3, "K"),
        ):
            if abs(number) >= unit:
                return f"¥{_trim(number / unit, 2)}{word}"
        return money(number)
    if abs(number) >= Decimal(10) ** 8:
        return f"{_trim(number / Decimal(10) ** 8, 2)}亿元"
    if abs(number) >= Decimal(10) ** 4:
        return f"{_trim(number / Decimal(10) ** 4, 2)}万元"
    return f"{_trim(number, 2)}元"


def _half_up(number: Decimal, places: int) -> Decimal:
    """Rounded the way people round (12.345 → 12.35), not to even."""
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _trim(number: Decimal, places: int) -> str:
    """Grouped, at most ``places`` decimals, no trailing zeros: 3250.00 → 3,250."""
    text = number_format(_half_up(number, places), places, use_l10n=True, force_grouping=True)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@register.filter
def percent(value, digits: int = 1) -> str:
    """A share (0–1) as a percentage: ``0.386|percent`` → ``38.6%``."""
    number = _decimal(value)
    if number is None:
        return DASH
    digits = int(digits)
    return f"{number_format(_half_up(number * 100, digits), digits, use_l10n=True)}%"


@register.filter
def share(part, whole) -> float:
    """``part / whole``, 0 when ``whole`` is 0."""
    try:
        return float(part) / float(whole) if float(whole) else 0.0
    except (TypeError, ValueError):
        return 0.0


@register.filter
def in_scope(division, user) -> bool:
    """Whether ``division`` lies in ``user``'s subtree, so its page opens for them (the
    breadcrumbs link only those; the ancestors above are plain text)."""
    return bool(user.is_authenticated) and division.code.startswith(user.scope_prefix)
