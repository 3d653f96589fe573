"""Lists are declared, not hand-written (issue #13 item 3), as NetBox does with its generic
list view: a list page names its scoped queryset, its filters (a django-filter
``FilterSet``) and its table (``Table`` of ``Col``), and ``ListPage`` gives it the filter
bar, sorting by the column headers, pagination, the .xlsx export (``core.xlsx``,
formula-safe) and the phone layout (each row a card below 576 px) — every list the same way.

Hooks cover what some lists need besides: ``on_show`` (e.g. the access log of a search of
residents), ``on_export`` (log, cap or refuse an export), ``context`` (more for the page),
``count`` (a count kept in a cache, for lists a whole city long), ``no_store`` (pages with
personal data are never cached).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Collate
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from shegong.core.forms import style_widgets
from shegong.core.xlsx import xlsx_response

PER_PAGE = 50
NOTHING_MATCHES = _("Nothing matches.")


def pinyin_order(field_name: str, descending: bool = False):
    """An ``order_by`` term that sorts Chinese names by pinyin: PostgreSQL's ICU collation
    ``zh-x-icu``; on SQLite the ``pinyin`` collation the platform registers
    (``core.apps``)."""
    collation = "zh-x-icu" if connection.vendor == "postgresql" else "pinyin"
    term = Collate(F(field_name), collation)
    return term.desc() if descending else term.asc()


@dataclass(frozen=True)
class Col:
    """One column of a declared table.

    ``value``: an attribute path ("division.name") or a function of the row; ``sort``: the
    field(s) the header sorts by (``pinyin:<field>`` sorts a Chinese name by pinyin; None:
    not sortable); ``link``: a function giving the cell's link; ``kind`` formats the value
    (text, num, money, date, datetime, percent, tag, bool; code: a user name or a code
    written by the data, not the interface's words — ``translate="no"``); ``tone``: for a
    tag, a function of the row giving its colour (ok, info, warn, bad, muted); ``title``:
    the cell heads the row's card on a phone; ``export``: part of the .xlsx (a function
    gives the exported value instead of the shown one); ``show``: False for a column of the
    .xlsx only."""

    name: str
    label: Any
    value: str | Callable[[Any], Any]
    sort: str | tuple[str, ...] | None = None
    link: Callable[[Any], str] | None = None
    kind: str = "text"
    tone: Callable[[Any], str] | None = None
    title: bool = False
    wrap: bool = False
    export: bool | Callable[[Any], Any] = True
    testid: str = ""
    show: bool = True

    def read(self, row: Any) -> Any:
        if callable(self.value):
            return self.value(row)
        value = row
        for part in self.value.split("."):
            value = getattr(value, part, None) if not isinstance(value, dict) else value.get(part)
            if value is None:
                return None
            if callable(value) and not isinstance(value, type):
                value = value()
        return value


@dataclass(frozen=True)
class Table:
    """A declared table: its columns, the default sort (a column name, "-" for
    descending), the test id of the ``<table>`` and ``row_attrs``: a function of the row
    giving ``data-…`` attributes of its ``<tr>`` (e.g. ``{"data-case": 12}``)."""

    columns: tuple[Col, ...]
    default_sort: str = ""
    testid: str = "list"
    row_attrs: Callable[[Any], dict] | None = None

    def column(self, name: str) -> Col | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def shown(self) -> tuple[Col, ...]:
        """The columns on the page (the others are in the .xlsx only)."""
        return tuple(c for c in self.columns if c.show)


class FilterSet(django_filters.FilterSet):
    """Base of the lists' filter sets: the design system's widget classes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form)

    def value(self, name: str):
        """The cleaned value of one filter, or None when absent or not valid."""
        if not self.is_bound or not self.form.is_valid():
            return None
        return self.form.cleaned_data.get(name) or None

    def search(self, queryset, name, value):
        """The usual search box: part of the name, or the start of a division code."""
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(division__code__startswith=value))


@dataclass
class ListPage:
    """A declared list page (see the module docstring). Call it with the request."""

    title: Any
    table: Table
    queryset: Callable[[Any], QuerySet | Iterable]
    filterset: type[FilterSet] | None = None
    export_name: str | None = None
    per_page: int = PER_PAGE
    template: str = "core/list.html"
    empty_text: Any = NOTHING_MATCHES
    intro: Any = ""
    actions: Callable[[Any], Sequence[tuple[str, Any, str]]] | None = None
    on_show: Callable[[Any, Any], None] | None = None
    on_export: Callable[[Any, Any], Any] | None = None
    context: Callable[[Any], dict] | None = None
    count: Callable[[Any, Any], int] | None = None
    no_store: bool = False
    extra: dict = field(default_factory=dict)

    def __call__(self, request) -> HttpResponse:
        rows = self.queryset(request)
        filters = None
        if self.filterset is not None:
            filters = self.filterset(request.GET or None, queryset=rows, request=request)
            rows = filters.qs if filters.is_bound and filters.is_valid() else rows
        sort, rows = self._sorted(request, rows)
        if request.GET.get("format") == "xlsx" and self.export_name:
            return self._export(request, rows)
        paginator = Paginator(rows, self.per_page)
        if self.count is not None:
            paginator.count = self.count(request, rows)
        page = paginator.get_page(request.GET.get("page"))
        if self.on_show is not None:
            self.on_show(request, page)
        context = {
            "title": self.title,
            "intro": self.intro,
            "table": self.table,
            "page": page,
            "rows": [self._cells(row) for row in page.object_list],
            "filters": filters,
            "sort": sort,
            "export": bool(self.export_name),
            "empty_text": self.empty_text,
            "actions": self.actions(request) if self.actions else [],
            **self.extra,
        }
        if self.context is not None:
            context.update(self.context(request))
        response = render(request, self.template, context)
        if self.no_store:
            response["Cache-Control"] = "no-store"
        return response

    def _sorted(self, request, rows):
        requested = request.GET.get("sort") or self.table.default_sort
        name = requested.lstrip("-")
        column = self.table.column(name)
        if column is None or column.sort is None or not isinstance(rows, QuerySet):
            return (self.table.default_sort if column is None else requested), rows
        descending = requested.startswith("-")
        terms = []
        for term in (column.sort,) if isinstance(column.sort, str) else column.sort:
            if term.startswith("pinyin:"):
                terms.append(pinyin_order(term.removeprefix("pinyin:"), descending))
            else:
                terms.append(f"-{term}" if descending else term)
        return requested, rows.order_by(*terms, "pk")

    def _cells(self, row) -> dict:
        cells = []
        for column in self.table.shown:
            value = column.read(row)
            cells.append(
                {
                    "column": column,
                    "value": value,
                    "link": column.link(row) if column.link and value not in (None, "") else "",
                    "tone": column.tone(row) if column.tone else "",
                }
            )
        attrs = self.table.row_attrs(row) if self.table.row_attrs else {}
        return {"row": row, "cells": cells, "attrs": attrs}

    def _export(self, request, rows):
        if self.on_export is not None:
            result = self.on_export(request, rows)
            if isinstance(result, HttpResponse):
                return result
            if result is False:
                raise PermissionDenied
        columns = [c for c in self.table.columns if c.export]
        headers = [c.label for c in columns]

        def values():
            iterable = rows.iterator(chunk_size=2000) if isinstance(rows, QuerySet) else rows
            for row in iterable:
                yield [
                    _export_value(c.export(row) if callable(c.export) else c.read(row))
                    for c in columns
                ]

        return xlsx_response(f"{self.export_name}.xlsx", str(self.title), headers, values())


def _export_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal | int | float | date | datetime):
        return value
    return str(value)
