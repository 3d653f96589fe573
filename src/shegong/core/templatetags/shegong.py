"""Template filters for figures."""

from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 0) -> str:
    """A share (0–1) as a percentage: ``0.3859|percent:1`` → ``38.6%``."""
    try:
        return f"{float(value) * 100:.{int(digits)}f}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def share(part, whole) -> float:
    """``part / whole``, 0 when ``whole`` is 0."""
    try:
        return float(part) / float(whole) if float(whole) else 0.0
    except (TypeError, ValueError):
        return 0.0
