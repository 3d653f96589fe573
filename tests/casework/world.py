"""Shared casework test objects: residents inside and outside the usual test scopes.

``resident_in`` lives in 桥北社区 (500105001001, inside every Chongqing role's scope),
``child_in`` is 10 years old in the same community, ``neighbour_in`` lives in the next
community of the same town (500105001002, outside the room worker's scope), and
``resident_out`` lives in 成都 (510104017001, outside every Chongqing role's scope).
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from shegong.casework.models import Resident
from shegong.core.crypto import lookup_hash
from shegong.core.validators import national_id_check_digit
from shegong.geo.models import Division


def resident_id(serial: int, born: date = date(1960, 5, 1), area: str = "500105") -> str:
    """A valid national ID for test resident ``serial`` (000–999)."""
    first17 = f"{area}{born:%Y%m%d}{serial:03d}"
    return first17 + national_id_check_digit(first17)


def make_resident(
    name: str, community_code: str, serial: int, born: date = date(1960, 5, 1), phone=""
) -> Resident:
    """A resident written directly (services are tested on their own)."""
    number = resident_id(serial, born)
    community = Division.objects.get(code=community_code)
    resident = Resident.objects.create(
        name=name,
        national_id=number,
        national_id_hash=lookup_hash(number),
        phone=phone,
        community=community,
    )
    resident.residences.create(community=community, moved_in_on=date(2015, 1, 1))
    return resident


def base_world() -> dict:
    """The four residents every casework matrix part can rely on (ids under these keys)."""
    today = timezone.localdate()
    child_born = date(today.year - 10, 3, 1)
    return {
        "resident_in": make_resident("张大爷", "500105001001", 901, phone="13800001234").pk,
        "child_in": make_resident("李小明", "500105001001", 902, born=child_born).pk,
        "neighbour_in": make_resident("王阿姨", "500105001002", 903).pk,
        "resident_out": make_resident("赵先生", "510104017001", 904).pk,
    }
