"""Personal data at rest: ciphertext in the database, readable after a key rotation."""

from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from shegong.core import crypto
from shegong.geo.models import Division
from shegong.workforce.models import SocialWorker
from shegong.workforce.services import social_worker_create
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db


def raw_ids() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id FROM workforce_socialworker")
        return [row[0] for row in cursor.fetchall()]


def test_rows_still_decrypt_after_a_key_rotation(settings):
    # given a person stored under the current key
    number = national_id(321)
    worker = social_worker_create(
        actor=None, name="孙八", national_id=number, division=Division.objects.get(code="500105")
    )
    old_key = settings.SHEGONG_ENCRYPTION_KEYS[0]
    before = raw_ids()
    assert all(number not in value for value in before)
    # when a new key is put first and the data re-encrypted
    new_key = Fernet.generate_key().decode()
    settings.SHEGONG_ENCRYPTION_KEYS = [new_key, old_key]
    crypto.reset_keys()
    try:
        call_command("rotate_keys")
        # then the ciphertext changed and the new key alone reads it
        assert raw_ids() != before
        settings.SHEGONG_ENCRYPTION_KEYS = [new_key]
        crypto.reset_keys()
        assert SocialWorker.objects.get(pk=worker.pk).national_id == number
        assert SocialWorker.objects.get(pk=worker.pk).birth_date == date(1985, 3, 12)
    finally:
        settings.SHEGONG_ENCRYPTION_KEYS = [old_key]
        crypto.reset_keys()
