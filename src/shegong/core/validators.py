"""Validators for Chinese identifiers: national ID (GB 11643) and unified social credit
code (GB 32100)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^[1-9][0-9]{16}[0-9X]$")


@dataclass(frozen=True)
class NationalId:
    """A checked 18-digit national ID and what it says about its holder."""

    number: str
    birth_date: date
    sex: str  # "male" or "female"

    @property
    def masked(self) -> str:
        return mask_national_id(self.number)


def national_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def parse_national_id(value: str, *, today: date | None = None) -> NationalId:
    """Validate an 18-digit national ID (GB 11643-1999) and derive birth date and sex."""
    number = (value or "").strip().upper()
    if not _ID_PATTERN.match(number):
        raise ValidationError(_("A national ID has 17 digits followed by a digit or X."))
    if national_id_check_digit(number[:17]) != number[17]:
        raise ValidationError(_("The national ID's check digit is wrong."))
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise ValidationError(_("The national ID holds an impossible birth date.")) from exc
    if birth.year < 1900 or birth > (today or date.today()):
        raise ValidationError(_("The national ID holds an impossible birth date."))
    return NationalId(number, birth, "male" if int(number[16]) % 2 else "female")


def mask_national_id(number: str) -> str:
    """Show the first three and last four characters: 500***********1234."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


# A phone number as people write it: digits, maybe a leading +, spaces or hyphens inside.
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{4,28}[0-9]$")


def mask_phone(number: str) -> str:
    """Show the first three and last four digits of a phone number."""
    digits = (number or "").strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# GB 32100-2015: 18 characters from this alphabet (no I, O, Z, S, V); check by MOD 31.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_PATTERN = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters."""
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Validate a unified social credit code (统一社会信用代码); return it normalised."""
    code = (value or "").strip().upper()
    if not _USCC_PATTERN.match(code):
        raise ValidationError(_("A unified social credit code has 18 letters and digits."))
    if uscc_check_character(code[:17]) != code[17]:
        raise ValidationError(_("The unified social credit code's check character is wrong."))
    return code


# --- Input checks shared by the services ---------------------------------------------------

# The platform's calendar: every date a person, a file or a client may give lies in it.
FIRST_YEAR = 1900
LAST_YEAR = 2100
FIRST_DAY = date(FIRST_YEAR, 1, 1)
LAST_DAY = date(LAST_YEAR, 12, 31)

# C0 control characters but tab, line feed and carriage return; DEL; lone UTF-16 surrogates.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12  # at most 12 digits of yuan before the point


def clean_amount(value, field: str = "amount", *, positive: bool = False) -> Decimal:
    """An exact amount of yuan: a number (never a float, which is not exact), not negative
    (more than zero when ``positive``), whole fen, at most 12 digits before the point."""
    if isinstance(value, float | bool):
        raise ValidationError({field: [_('Give the amount as a decimal string, e.g. "1250.50".')]})
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({field: [_("Give the amount as a number.")]}) from exc
    if not amount.is_finite():
        raise ValidationError({field: [_("Give the amount as a number.")]})
    if amount < 0:
        message = (
            _("The amount cannot be negative: it must be more than zero.")
            if positive
            else _("The amount cannot be negative.")
        )
        raise ValidationError({field: [message]})
    if positive and amount == 0:
        raise ValidationError({field: [_("The amount must be more than zero.")]})
    if amount != amount.quantize(CENT):
        raise ValidationError(
            {field: [_("The amount cannot have fractions of a fen (at most 2 decimal places).")]}
        )
    if amount >= MAX_AMOUNT:
        raise ValidationError({field: [_("The amount is too large.")]})
    return amount.quantize(CENT)


def clean_text(value: str, field: str, message: str, length: int = 200) -> str:
    """Stripped text that must not be empty (``message`` says what is missing)."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: [message]})
    return value[:length]


def check_not_future(day: date | None, field: str) -> None:
    """Refuse a date after today."""
    from django.utils import timezone

    if day is not None and day > timezone.localdate():
        raise ValidationError({field: [_("The date cannot be in the future.")]})
