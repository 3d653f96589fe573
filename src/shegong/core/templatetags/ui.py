"""Template tags of the design system's components: a declared table's cell, sort links,
and a query string with one parameter changed."""

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from shegong.core.templatetags.shegong import money, num, percent

register = template.Library()


@register.simple_tag
def cell(item) -> str:
    """A cell of a declared table (``core.lists``), formatted by its column's kind."""
    column, value = item["column"], item["value"]
    if value is None or value == "":
        shown = "—"
    elif column.kind == "num":
        shown = num(value)
    elif column.kind == "money":
        shown = money(value)
    elif column.kind == "percent":
        shown = percent(value)
    elif column.kind == "bool":
        shown = _("yes") if value else _("no")
    elif column.kind == "datetime" and isinstance(value, datetime):
        shown = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    elif column.kind in ("date", "datetime") and isinstance(value, date):
        shown = value.strftime("%Y-%m-%d")
    else:
        shown = str(value)
    if column.kind == "tag" and value not in (None, ""):
        return format_html('<span class="tag tag-{}">{}</span>', item["tone"] or "muted", shown)
    if column.kind == "code" and value not in (None, ""):
        # written by users or the data (user names, credit codes): not the interface's words
        shown = format_html('<span translate="no">{}</span>', shown)
    if item["link"]:
        return format_html('<a href="{}">{}</a>', item["link"], shown)
    return format_html("{}", shown)


@register.simple_tag(takes_context=True)
def with_query(context, **changes) -> str:
    """The current query string with some parameters changed (None removes one); the page
    number is dropped when anything else changes."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    if "page" not in changes:
        query.pop("page", None)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def sort_link(context, column, current: str) -> str:
    """A sortable header: its link toggles ascending and descending; an arrow marks the
    current sort."""
    if column.sort is None:
        return format_html("{}", column.label)
    descending = current == column.name
    target = f"-{column.name}" if descending else column.name
    arrow = ""
    if current == column.name:
        arrow = "ti-arrow-up"
    elif current == f"-{column.name}":
        arrow = "ti-arrow-down"
    href = with_query(context, sort=target)
    if arrow:
        return format_html(
            '<a class="sort-link" href="{}">{} <i class="ti {}" aria-hidden="true"></i></a>',
            href,
            column.label,
            arrow,
        )
    return format_html('<a class="sort-link" href="{}">{}</a>', href, column.label)


@register.simple_tag
def aria_sort(column, current: str) -> str:
    """The ``aria-sort`` of a header: ascending, descending or none."""
    if current == column.name:
        return "ascending"
    if current == f"-{column.name}":
        return "descending"
    return "none"
