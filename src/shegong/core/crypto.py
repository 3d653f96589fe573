"""Encryption at rest for personal data, and keyed look-up hashes (security.md 15).

- ``encrypt``/``decrypt`` use Fernet (AES-128-CBC + HMAC-SHA256) through ``MultiFernet``:
  the first key in ``SHEGONG_ENCRYPTION_KEYS`` encrypts, every listed key decrypts, so keys
  can be rotated (``shegong rotate_keys`` re-encrypts with the newest).
- ``lookup_hash`` is HMAC-SHA256 with ``SHEGONG_LOOKUP_KEY``: an exact-match and
  de-duplication index for values that are stored encrypted (national IDs, phones). Without
  the key, the hash says nothing about the value.

Keys live outside the database: in the environment in production, in the data directory
(generated once, mode 600) elsewhere.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@functools.cache
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.SHEGONG_ENCRYPTION_KEYS])


def reset_keys() -> None:
    """Forget the cached keys (after the settings change, e.g. in tests)."""
    _fernet.cache_clear()


def encrypt(value: str) -> str:
    """Ciphertext (ASCII) of ``value``; the same value encrypts differently every time."""
    return _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """The clear value of ``token``, with whichever listed key encrypted it."""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ValueError("cannot decrypt: unknown key or damaged value") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key."""
    return _fernet().rotate(token.encode("ascii")).decode("ascii")


def lookup_hash(value: str) -> str:
    """Keyed hash of a normalised value, for exact look-up of encrypted data."""
    key = settings.SHEGONG_LOOKUP_KEY.encode("utf-8")
    return hmac.new(key, value.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code sees the clear value.

    Only exact look-ups through a separate ``lookup_hash`` column are possible: filtering on
    this column compares ciphertexts and finds nothing.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)
