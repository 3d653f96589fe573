"""Figures are written one way everywhere, in Chinese and in English (issue #13 item 4)."""

import datetime
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import formats, translation

from shegong.core.templatetags.shegong import money, money_short, num, percent

LANGUAGES = ("zh-hans", "en")


@pytest.mark.parametrize("language", LANGUAGES)
def test_numbers_are_grouped_by_three(language):
    # given either interface language
    with translation.override(language):
        # then a decimal is grouped with commas and keeps two places
        assert num(12345678.9, 2) == "12,345,678.90"
        assert num(Decimal("12345678.9"), 2) == "12,345,678.90"
        # and a whole count is grouped without places
        assert num(63000) == "63,000"
        assert num(588971720) == "588,971,720"
        assert num(-1234) == "-1,234"
        # and nothing to show is a dash, not "None"
        assert num(None) == "—"


@pytest.mark.parametrize("language", LANGUAGES)
def test_money_in_tables(language):
    with translation.override(language):
        assert money(32500000) == "¥32,500,000.00"
        assert money(Decimal("588971720.00")) == "¥588,971,720.00"
        assert money(Decimal("-1000")) == "-¥1,000.00"
        assert money("") == "—"


def test_money_on_cards_in_chinese():
    with translation.override("zh-hans"):
        assert money_short(32500000) == "3,250万元"
        assert money_short(101000000) == "1.01亿元"
        assert money_short(Decimal("588971720.00")) == "5.89亿元"
        assert money_short(12345) == "1.23万元"
        assert money_short(800) == "800元"


def test_money_on_cards_in_english():
    with translation.override("en"):
        assert money_short(32500000) == "¥32.5M"
        assert money_short(1010000000) == "¥1.01B"
        assert money_short(800) == "¥800.00"


@pytest.mark.parametrize("language", LANGUAGES)
def test_shares_as_percentages(language):
    with translation.override(language):
        assert percent(0.386) == "38.6%"
        assert percent(Decimal("0.5")) == "50.0%"
        assert percent(1) == "100.0%"
        assert percent(0.12345, 2) == "12.35%"


@pytest.mark.parametrize("language", LANGUAGES)
def test_django_number_filters_group_too(language):
    # given Django's own filters, which the zh_Hans locale left ungrouped
    template = Template('{% load humanize %}{{ n|intcomma }} {{ x|floatformat:"2g" }}')
    with translation.override(language):
        text = template.render(Context({"n": 32500000, "x": 588971720}))
    # then our format module groups them by three
    assert text == "32,500,000 588,971,720.00"


@pytest.mark.parametrize("language", LANGUAGES)
def test_dates_one_way(language):
    day = datetime.date(2020, 3, 1)
    with translation.override(language):
        assert formats.date_format(day) == "2020-03-01"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "2020-03-01"
        rendered = Template("{{ d }} {{ d|date }}").render(Context({"d": day}))
    assert rendered == "2020-03-01 2020-03-01"
