"""The input boundary (issue #12 item 2, security.md 11): the bounded types that every API
schema and query parameter is declared with, the check every API input passes through
(``check_value``, applied to every field of ``core.api.InputSchema``), and the readers of
page query parameters and the bounds of page forms — so that no value a client can send
reaches the database or a library unchecked.

- whole numbers within 64 bits (ids), counts within a billion, page numbers within
  ``MAX_PAGE``;
- years and dates within the platform's calendar (``core.validators.FIRST_YEAR`` …);
- amounts within the database's precision (14 digits, 2 decimal places);
- text without control characters or lone surrogates, with a length cap (a search is capped
  so short that no LIKE pattern can grow too complex; Django escapes ``%`` and ``_``).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema

from shegong.core.validators import (
    CONTROL_CHARACTERS,
    FIRST_DAY,
    FIRST_YEAR,
    LAST_DAY,
    LAST_YEAR,
)

MAX_BIGINT = 2**63 - 1  # the database's largest whole number
MAX_COUNT = 1_000_000_000  # head-counts, minutes, targets, population
MAX_PAGE = 100_000
MAX_PAGE_SIZE = 500
TEXT_LENGTH = 300
LONG_TEXT_LENGTH = 10_000
CODE_LENGTH = 20
WORD_LENGTH = 40
SEARCH_LENGTH = 100
MAX_ITEMS = 5_000  # entries of a list given at once
AMOUNT_DIGITS, AMOUNT_PLACES = 14, 2  # numeric(14, 2): 12 digits of yuan


def check_text(value: str) -> str:
    """Refuse control characters (but tab and line breaks) and lone UTF-16 surrogates."""
    if CONTROL_CHARACTERS.search(value):
        raise ValueError(_("contains invisible control characters; type the text again"))
    return value


def check_day(value: date) -> date:
    """A date within the platform's calendar."""
    day = value.date() if isinstance(value, datetime) else value
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(
            _("the date must lie between %(a)d and %(b)d") % {"a": FIRST_YEAR, "b": LAST_YEAR}
        )
    return value


def check_moment(value: datetime) -> datetime:
    """A moment within the calendar; one without a time zone is read in the platform's."""
    check_day(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def check_value(value: Any) -> Any:
    """The check every API input value passes (the safety net of ``InputSchema``): text,
    numbers, dates and the items of lists and mappings within the boundary."""
    if isinstance(value, str):
        check_text(value)
        if len(value) > LONG_TEXT_LENGTH:
            raise ValueError(_("is longer than %(n)d characters") % {"n": LONG_TEXT_LENGTH})
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if not -MAX_BIGINT <= value <= MAX_BIGINT:
            raise ValueError(_("the number is too large"))
    elif isinstance(value, float):
        if not math.isfinite(value) or abs(value) > MAX_BIGINT:
            raise ValueError(_("the number is too large"))
    elif isinstance(value, Decimal):
        if not value.is_finite() or abs(value) >= Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES):
            raise ValueError(_("the number is too large"))
    elif isinstance(value, date):
        check_day(value)
    elif isinstance(value, list | tuple | set | frozenset):
        if len(value) > MAX_ITEMS:
            raise ValueError(_("at most %(n)d items at once") % {"n": MAX_ITEMS})
        for item in value:
            check_value(item)
    elif isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise ValueError(_("at most %(n)d items at once") % {"n": MAX_ITEMS})
        for key, item in value.items():
            check_value(key)
            check_value(item)
    return value


def _text(length: int):
    return Annotated[str, StringConstraints(max_length=length), AfterValidator(check_text)]


# --- The bounded types of the API --------------------------------------------------------

Id = Annotated[int, Field(ge=1, le=MAX_BIGINT)]
Ids = Annotated[list[Id], Field(max_length=MAX_ITEMS)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Version = Annotated[int, Field(ge=1, le=MAX_COUNT)]
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)]
PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)]
Day = Annotated[date, AfterValidator(check_day)]
Moment = Annotated[datetime, AfterValidator(check_moment)]
Text = _text(TEXT_LENGTH)
LongText = _text(LONG_TEXT_LENGTH)
Code = _text(CODE_LENGTH)  # division codes, credit codes
Word = _text(WORD_LENGTH)  # a choice's value, a sort key
Search = _text(SEARCH_LENGTH)  # a name or code typed into a search box


def _decimal(digits: int, places: int):
    """A decimal number of at most ``digits`` digits, ``places`` of them after the point,
    as a JSON number or a decimal string (exact); signs and zero are the services' to judge
    (their messages say more)."""
    whole = digits - places
    limit = float(10**whole) - 10**-places
    return Annotated[
        Decimal,
        Field(max_digits=digits, decimal_places=places),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "number", "minimum": -limit, "maximum": limit},
                    {
                        "type": "string",
                        "pattern": rf"^-?[0-9]{{1,{whole}}}(\.[0-9]{{1,{places}}})?$",
                    },
                ]
            }
        ),
    ]


Amount = _decimal(AMOUNT_DIGITS, AMOUNT_PLACES)  # yuan: numeric(14, 2)
AmountText = _text(32)  # an amount given as a decimal string ("1250.50"), checked by the service
Hours = _decimal(7, 2)
Score = _decimal(6, 2)


# --- Pages: query parameters and forms ---------------------------------------------------

QUERY_LENGTH = 200  # any query parameter of a page
_PAGE_IDS = {"resident", "case", "user", "scheme", "facility", "project", "account", "worker"}
_PAGE_DATES = {"as_of", "start", "end", "on"}
_PAGE_YEARS = {"year", "year_from", "year_to"}


class InvalidQuery(ValueError):
    """A page's query parameter that cannot be used: answered 400, naming it."""


def _query_problem(name: str, value: str) -> str | None:
    if CONTROL_CHARACTERS.search(value):
        return _("contains invisible control characters")
    if len(value) > QUERY_LENGTH:
        return _("is longer than %(n)d characters") % {"n": QUERY_LENGTH}
    if not value:
        return None
    if name == "page":
        if value == "last":
            return None
        if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
            return _("must be a page number from 1 to %(n)d") % {"n": MAX_PAGE}
    elif name in _PAGE_YEARS:
        if not value.isdigit() or not FIRST_YEAR <= int(value) <= LAST_YEAR:
            return _("must be a year from %(a)d to %(b)d") % {"a": FIRST_YEAR, "b": LAST_YEAR}
    elif name in _PAGE_IDS:
        if not value.isdigit() or not 1 <= int(value) <= MAX_BIGINT:
            return _("must be a record number")
    elif name in _PAGE_DATES:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return _("must be a date as YYYY-MM-DD")
        if not FIRST_DAY <= day <= LAST_DAY:
            return _("the date must lie between %(a)d and %(b)d") % {
                "a": FIRST_YEAR,
                "b": LAST_YEAR,
            }
    return None


def check_page_query(query) -> None:
    """Every query parameter of a page request within the boundary (``InvalidQuery``
    otherwise, naming each one): known names by their kind (page, year, date, record
    number), every value without control characters and at most ``QUERY_LENGTH``."""
    problems = []
    for name in query:
        for value in query.getlist(name):
            problem = _query_problem(name, value)
            if problem:
                problems.append(f"{name[:40]}: {problem}")
    if problems:
        raise InvalidQuery("；".join(problems))


def get_int(request, name: str, *, low: int = 1, high: int = MAX_BIGINT) -> int | None:
    """A whole-number query parameter within [low, high], or None (absent or unusable)."""
    raw = request.GET.get(name, "")
    if not raw or len(raw) > 20 or not raw.lstrip("-").isdigit():
        return None
    number = int(raw)
    return number if low <= number <= high else None


def get_year(request, name: str = "year") -> int | None:
    """A year query parameter within the calendar, or None."""
    return get_int(request, name, low=FIRST_YEAR, high=LAST_YEAR)


def get_date(request, name: str) -> date | None:
    """A YYYY-MM-DD query parameter within the calendar, or None."""
    raw = request.GET.get(name, "")
    if len(raw) != 10:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def get_text(request, name: str, *, length: int = SEARCH_LENGTH) -> str:
    """A text query parameter, stripped, without control characters, at most ``length``."""
    raw = request.GET.get(name, "")[:length]
    return CONTROL_CHARACTERS.sub("", raw).strip()


def _no_control_characters(value: Any) -> None:
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            gettext_lazy("The text contains invisible control characters; type it again."),
            code="control_characters",
        )


def _within_calendar(value: Any) -> None:
    day = value.date() if isinstance(value, datetime) else value
    if isinstance(day, date) and not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationError(
            gettext_lazy("The date must lie between %(a)d and %(b)d."),
            code="calendar",
            params={"a": FIRST_YEAR, "b": LAST_YEAR},
        )


def bound_form_fields(form) -> None:
    """Give every field of a page form the boundary's limits where it has none of its own:
    whole and decimal numbers within 64 bits / 14 digits, text capped and free of control
    characters, dates within the calendar. Called by ``core.forms.BoundedForm``."""
    from django import forms

    for field in form.fields.values():
        if isinstance(field, forms.IntegerField):
            if field.max_value is None:
                field.max_value = MAX_BIGINT
                field.validators.append(MaxValueValidator(MAX_BIGINT))
                field.widget.attrs.setdefault("max", MAX_BIGINT)
            if field.min_value is None:
                field.min_value = -MAX_BIGINT
                field.validators.append(MinValueValidator(-MAX_BIGINT))
        elif isinstance(field, forms.DecimalField) and field.max_digits is None:
            limit = Decimal(10) ** (AMOUNT_DIGITS - AMOUNT_PLACES)
            field.validators.append(MaxValueValidator(limit - 1))
            field.validators.append(MinValueValidator(-(limit - 1)))
        elif isinstance(field, forms.CharField):
            if field.max_length is None:
                field.max_length = LONG_TEXT_LENGTH
                field.validators.append(MaxLengthValidator(LONG_TEXT_LENGTH))
            field.validators.append(_no_control_characters)
        elif isinstance(field, forms.DateField | forms.DateTimeField):
            field.validators.append(_within_calendar)
