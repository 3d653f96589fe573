"""Property tests of the identifier validators (security.md 11): every well-formed national
ID and credit code is accepted, and every single-character change to one is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from shegong.core.inputs import check_value
from shegong.core.validators import (
    national_id_check_digit,
    parse_national_id,
    uscc_check_character,
    validate_uscc,
)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@st.composite
def national_ids(draw) -> str:
    area = draw(st.integers(110000, 659999))
    born = draw(st.dates(min_value=date(1901, 1, 1), max_value=date.today() - timedelta(days=1)))
    serial = draw(st.integers(0, 999))
    first17 = f"{area}{born:%Y%m%d}{serial:03d}"
    return first17 + national_id_check_digit(first17)


@settings(max_examples=300, derandomize=True)
@given(national_ids(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_a_national_id_is_accepted_and_any_changed_character_refused(number, position, char):
    assert parse_national_id(number).number == number
    changed = number[:position] + char + number[position + 1 :]
    if changed != number:
        with pytest.raises(ValidationError):
            parse_national_id(changed)


@st.composite
def credit_codes(draw) -> str:
    first17 = draw(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
    first17 = (
        first17[:2] + "".join(draw(st.sampled_from("0123456789")) for _ in range(6)) + first17[8:]
    )
    return first17 + uscc_check_character(first17)


@settings(max_examples=300, derandomize=True)
@given(credit_codes(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET))
def test_a_credit_code_is_accepted_and_any_changed_character_refused(code, position, char):
    assert validate_uscc(code.lower()) == code
    changed = code[:position] + char + code[position + 1 :]
    if changed != code:
        with pytest.raises(ValidationError):
            validate_uscc(changed)


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=5))
def test_any_control_character_in_text_is_refused(controls):
    text = "正文" + controls
    if any(c not in "\t\n\r" for c in controls):
        with pytest.raises(ValueError, match=r"控制字符|control characters"):
            check_value(text)
    else:
        assert check_value(text) == text
