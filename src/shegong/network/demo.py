"""Demo network on the real Chongqing divisions, reproducing the article (demo mode only).

- 12 counties (江北区 and 九龙坡区 among them) have their guidance centre and a station in
  every town (F1 = 12); most other counties have a centre and some stations.
- 4,350 rooms operate across the city (F2), 38.6 % of 11,270 communities (F3 ≈ 39 %).
- Facilities opened over 2017–2020, some passing through planned and built first; a few
  more are still planned or built.
- Full-time social workers are posted so that most facilities meet the standard, not all.

Rows are written in bulk (one audit event records the demo load), deterministically.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction

from shegong.core.audit import audit_record
from shegong.core.crypto import lookup_hash
from shegong.core.validators import national_id_check_digit
from shegong.geo.models import Division, Kind, Level
from shegong.network.models import (
    Facility,
    FacilityStatus,
    FacilityStatusPeriod,
    OperatorKind,
    Tier,
)
from shegong.network.services import ARTICLE_STANDARD
from shegong.workforce.models import Employment, Posting, QualificationLevel, SocialWorker
from shegong.workforce.selectors import standard_kind
from shegong.workforce.services import default_workplace_type

FULLY_COVERED = (
    "500105",  # 江北区
    "500107",  # 九龙坡区
    "500103",  # 渝中区
    "500104",  # 大渡口区
    "500106",  # 沙坪坝区
    "500108",  # 南岸区
    "500109",  # 北碚区
    "500112",  # 渝北区
    "500113",  # 巴南区
    "500118",  # 永川区
    "500120",  # 璧山区
    "500151",  # 铜梁区
)
ROOMS = 4350
DEMO_COMMUNITY = "500105001001"  # the demo room worker's community has a room
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国文"
# The article's standard (F4–F8), the one setup installs.
STANDARD = {(tier, kind): minimum for tier, kind, minimum in ARTICLE_STANDARD}


def _opening(rng: random.Random) -> date:
    return date(2017, 1, 1) + timedelta(days=rng.randrange(0, 4 * 365))


@transaction.atomic
def demo_network_create(seed: int = 2021) -> dict[str, int]:
    """Create the demo network if there are no facilities yet; return what was made."""
    if Facility.objects.exists():
        return {}
    rng = random.Random(seed)
    counties = list(Division.objects.filter(code__startswith="50", level=Level.COUNTY))
    towns = list(Division.objects.filter(code__startswith="50", level=Level.TOWN))
    communities = list(Division.objects.filter(code__startswith="50", level=Level.COMMUNITY))
    towns_by_county: dict[str, list[Division]] = {}
    for town in towns:
        towns_by_county.setdefault(town.code[:6], []).append(town)

    plans: list[tuple[str, Division, date, bool]] = []  # tier, division, opened, operating
    for county in counties:
        full = county.code in FULLY_COVERED
        if full or rng.random() < 0.75:
            plans.append((Tier.CENTRE, county, _opening(rng), True))
        for town in towns_by_county.get(county.code, []):
            if full or rng.random() < 0.45:
                plans.append((Tier.STATION, town, _opening(rng), True))
    # Rooms: the demo community first, then urban communities of the fully covered
    # counties are likelier, as in the article's main urban area.
    demo = next(c for c in communities if c.code == DEMO_COMMUNITY)
    others = [c for c in communities if c.code != DEMO_COMMUNITY]
    weights = [
        (3.0 if c.code[:6] in FULLY_COVERED else 1.0) * (1.6 if c.kind == Kind.URBAN else 1.0)
        for c in others
    ]
    chosen = {demo.code: demo}
    while len(chosen) < ROOMS:
        pick = rng.choices(others, weights=weights, k=ROOMS - len(chosen))
        chosen.update((c.code, c) for c in pick)
    for community in chosen.values():
        plans.append((Tier.ROOM, community, _opening(rng), True))
    # A few more rooms are still planned or built (not counted as operating).
    spare = [c for c in others if c.code not in chosen]
    for community in rng.sample(spare, 120):
        plans.append((Tier.ROOM, community, date(2020, 6, 1), False))

    facilities, periods = [], []
    for tier, division, opened, operating in plans:
        name = _facility_name(tier, division)
        facility = Facility(
            tier=tier,
            division=division,
            name=name,
            operator_kind=OperatorKind.GOVERNMENT,
            status=FacilityStatus.OPERATING if operating else rng.choice(["planned", "built"]),
            opened_on=opened if operating else None,
            checklist={
                key: {"done": operating or rng.random() < 0.5, "note": ""}
                for key in (
                    "premises",
                    "equipment",
                    "staff",
                    "rules",
                    "service_functions",
                    "activities",
                )
            },
        )
        facilities.append(facility)
    Facility.objects.bulk_create(facilities, batch_size=1000)
    for facility, (_tier, _division, opened, operating) in zip(facilities, plans, strict=True):
        if operating and rng.random() < 0.3:
            planned_from = opened - timedelta(days=rng.randrange(60, 240))
            periods.append(
                FacilityStatusPeriod(
                    facility=facility,
                    status=FacilityStatus.PLANNED,
                    valid_from=planned_from,
                    valid_to=opened,
                )
            )
        periods.append(
            FacilityStatusPeriod(
                facility=facility,
                status=facility.status,
                valid_from=opened,
            )
        )
    FacilityStatusPeriod.objects.bulk_create(periods, batch_size=2000)

    workers, postings = [], []
    serial = 0
    for facility, (tier, division, opened, operating) in zip(facilities, plans, strict=True):
        if not operating:
            continue
        required = STANDARD[(tier, standard_kind(tier, division.kind))]
        # most facilities meet the standard; about one in six falls one short
        posted = required if rng.random() < 0.83 else required - 1
        for _ in range(max(0, posted)):
            serial += 1
            worker = _worker(rng, division, serial)
            workers.append(worker)
            postings.append((worker, facility, opened + timedelta(days=rng.randrange(0, 90))))
    SocialWorker.objects.bulk_create(workers, batch_size=1000)
    Posting.objects.bulk_create(
        [
            Posting(
                worker=w,
                facility=f,
                workplace_type=default_workplace_type(f),
                employment=Employment.FULL_TIME,
                post_type="专职社工",
                started_on=min(start, date(2021, 6, 30)),
            )
            for w, f, start in postings
        ],
        batch_size=2000,
    )
    made = {
        "centres": sum(1 for p in plans if p[0] == Tier.CENTRE),
        "stations": sum(1 for p in plans if p[0] == Tier.STATION),
        "rooms": sum(1 for p in plans if p[0] == Tier.ROOM and p[3]),
        "social_workers": len(workers),
    }
    audit_record(actor=None, action="demo.network", object_type="network.facility", after=made)
    return made


def _facility_name(tier: str, division: Division) -> str:
    short = division.name.replace("居民委员会", "").replace("村民委员会", "")
    return {
        Tier.CENTRE: f"{short}社会工作指导中心",
        Tier.STATION: f"{short}社会工作站",
        Tier.ROOM: f"{short}社会工作室",
    }[tier]


def _worker(rng: random.Random, division: Division, serial: int) -> SocialWorker:
    """A plausible person with a valid national ID, unique by construction: for serials
    below 2,190,000 no two share both the sequence number and the birth date."""
    birth = date(1968, 1, 1) + timedelta(days=(serial * 7919) % 10950)
    first17 = f"{division.code[:6]}{birth:%Y%m%d}{serial % 1000:03d}"
    number = first17 + national_id_check_digit(first17)
    name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
    phone = f"1{rng.choice('3589')}{rng.randrange(0, 10**9):09d}"
    return SocialWorker(
        name=name,
        national_id=number,
        national_id_hash=lookup_hash(number),
        qualification_level=rng.choices(list(QualificationLevel.values), weights=(30, 45, 22, 3))[
            0
        ],
        phone=phone,
        division=division,
    )
