"""The demo services to residents: about 500,000 person-times of poverty-alleviation
services in the poor counties over 2018–2020 (F28), cases at every stage with the stage
changes that brought them there, person-times always the residents served plus the
head-count, nothing personal in clear in the raw rows, and a second run creates nothing.

One test: the demo is loaded once (network, users, projects, then casework) and checked
from every side, so the suite pays for the load once."""

import itertools
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F, Q, Sum

from shegong.accounts.demo import demo_users_create
from shegong.accounts.models import User
from shegong.casework.demo import POOR_COUNTIES, demo_casework_create
from shegong.casework.models import (
    CASE_STAGE_ORDER,
    Activity,
    Case,
    CaseStage,
    CaseStageChange,
    Consent,
    ConsentPurpose,
    GroupMember,
    Referral,
    ReferralStatus,
    Resident,
    ServiceRecord,
    SpecialGroup,
    SpecialStatus,
    WorkGroup,
)
from shegong.core.crypto import lookup_hash
from shegong.core.validators import parse_national_id
from shegong.geo.models import Division, PovertyDesignation, PovertyKind
from shegong.network.demo import demo_network_create
from shegong.network.models import Facility, Tier
from shegong.network.services import seed_article_standard
from shegong.projects.models import Focus, Project, Stage

pytestmark = pytest.mark.django_db

CLEAR_ID = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9X](?![0-9])")
CLEAR_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9])")
PERIOD = (date(2018, 1, 1), date(2020, 12, 31))


def _in_poor_counties() -> Q:
    q = Q()
    for code in POOR_COUNTIES:
        q |= Q(division__code__startswith=code)
    return q


def _poverty_projects() -> None:
    """A 2018–2020 poverty-alleviation project bought by a station of each poor county."""
    for code in POOR_COUNTIES:
        station = (
            Facility.objects.filter(tier=Tier.STATION, division__code__startswith=code)
            .select_related("division")
            .order_by("division__code")
            .first()
        )
        if station is None:
            continue
        Project.objects.create(
            code=f"SG2018-{code}-T01",
            name="脱贫攻坚社会工作服务项目",
            purchase_model="project",
            focus=Focus.POVERTY,
            area=station.division,
            purchaser=station,
            starts_on=date(2018, 1, 1),
            ends_on=date(2020, 12, 31),
            budget=Decimal("300000"),
            stage=Stage.CLOSED,
        )


def test_demo_casework_reproduces_f28_and_every_stage(settings):
    # given the demo network and users, the poor counties designated (as the workforce
    # demo does) and a poverty-alleviation project in each (the projects demo makes many
    # more; a few keep this test fast)
    settings.DEMO_MODE = True
    seed_article_standard()
    demo_network_create()
    demo_users_create()
    PovertyDesignation.objects.bulk_create(
        PovertyDesignation(division=d, kind=PovertyKind.POOR_COUNTY, designated_on=date(2014, 1, 1))
        for d in Division.objects.filter(code__in=POOR_COUNTIES)
    )
    _poverty_projects()

    # when the casework demo is created
    made = demo_casework_create()

    # then F28, summed by the ORM over the poor counties, is about 500,000
    poverty = ServiceRecord.objects.filter(
        poverty_alleviation=True, served_on__range=PERIOD
    ).filter(_in_poor_counties())
    f28 = poverty.aggregate(n=Sum("person_times"))["n"]
    assert 480_000 <= f28 <= 520_000
    assert made["poverty_person_times"] == f28
    # and no poverty-alleviation service lies outside them or outside 2018–2020
    assert ServiceRecord.objects.filter(poverty_alleviation=True).count() == poverty.count()
    # and the platform's own F28 says the same to the city
    from shegong.casework.selectors.stats import f28_poverty_person_times

    city = User.objects.get(username="city")
    assert f28_poverty_person_times(city, *PERIOD) == f28
    # with community activities counted by head-count, the rows stay few
    assert 15_000 <= ServiceRecord.objects.count() <= 45_000
    assert poverty.filter(method="community", headcount__gt=0).count() > 2_000

    # and person-times are always the residents served plus the head-count
    records = ServiceRecord.objects.annotate(served=Count("recipients"))
    assert not records.exclude(person_times=F("served") + F("headcount")).exists()
    assert not ServiceRecord.objects.filter(person_times__lt=1).exists()
    # and target groups, domains and methods are spread
    assert ServiceRecord.objects.values("target_group").distinct().count() >= 8
    assert ServiceRecord.objects.values("domain").distinct().count() >= 8
    assert ServiceRecord.objects.values("method").distinct().count() == 6
    # and many services are linked to a poverty-alleviation or livelihood project under way
    # where they were given
    linked = poverty.filter(project__isnull=False).select_related("project__area", "division")
    assert linked.count() > 500
    for record in linked[:300]:
        assert record.project.focus in ("poverty", "special_groups")
        assert record.division.code.startswith(record.project.area.code)
        assert record.project.starts_on <= record.served_on <= record.project.ends_on

    # and the demo room holds cases at every stage, worked by the demo room worker and
    # supervised by the demo station user, one of them protected
    room = User.objects.get(username="room")
    station = User.objects.get(username="station")
    cases = Case.objects.filter(facility__division__code="500105001001")
    assert set(cases.values_list("stage", flat=True)) == set(CaseStage.values)
    assert not cases.exclude(assigned_to=room, supervisor=station).exists()
    assert cases.filter(protected=True).exists()
    # each with the stage changes that brought it to its stage, in order
    for case in cases:
        steps = list(CaseStageChange.objects.filter(case=case).order_by("changed_at", "id"))
        assert steps[0].from_stage == "" and steps[0].to_stage == CaseStage.INTAKE
        for before, after in itertools.pairwise(steps):
            assert after.from_stage == before.to_stage
            assert after.changed_at >= before.changed_at
        assert steps[-1].to_stage == case.stage
        if case.stage == CaseStage.DECLINED:
            assert len(steps) == 2 and case.decline_reason
        else:
            order = [s.to_stage for s in steps]
            assert order == CASE_STAGE_ORDER[: len(order)]
        if case.stage not in (CaseStage.INTAKE,):
            assert case.approved_by == station
        # and its service records were given while it was in intervention
        for record in case.service_records.all():
            assert record.served_on >= case.opened_on

    # and residents carry several kinds of special-group status, some ended; disability
    # certificates match the ID, category and grade
    assert SpecialStatus.objects.values("group").distinct().count() >= 12
    assert SpecialStatus.objects.filter(ended_on__isnull=False).exists()
    disabled = SpecialStatus.objects.filter(group=SpecialGroup.DISABILITY).select_related(
        "resident"
    )
    assert disabled.exists()
    for status in disabled[:200]:
        expected = (
            f"{status.resident.national_id}{status.disability_category}{status.disability_grade}"
        )
        assert status.certificate_number == expected
    # and children under 14 have a guardian, who gave their consent
    today = date.today()
    children = [
        r
        for r in Resident.objects.select_related("guardian").filter(guardian__isnull=False)
        if r.age_on(today) < 14
    ]
    assert len(children) > 100
    under_14 = [r for r in Resident.objects.all()[:3000] if r.age_on(today) < 14]
    assert all(r.guardian_id for r in under_14)
    consents = {
        c.resident_id: c
        for c in Consent.objects.filter(
            purpose=ConsentPurpose.SERVICE, resident__in=[c.pk for c in children[:200]]
        )
    }
    child_consents = [
        consents[c.pk] for c in children[:200] if c.age_on(consents[c.pk].given_on) < 14
    ]
    assert child_consents
    assert all(c.given_by_guardian for c in child_consents)
    # and every resident's ID is valid, born in their county, with its look-up hash
    for resident in Resident.objects.select_related("community")[:500]:
        parse_national_id(resident.national_id)
        assert resident.national_id[:6] == resident.community.code[:6]
        assert resident.national_id_hash == lookup_hash(resident.national_id)

    # and groups at several stages have members and sessions; activities have records
    assert WorkGroup.objects.values("stage").distinct().count() >= 4
    assert GroupMember.objects.exists()
    assert ServiceRecord.objects.filter(group__isnull=False, session_number=1).exists()
    assert Activity.objects.filter(service_records__isnull=False).count() > 2_000
    # and referrals go both ways for the demo room, one of them overdue
    home_room = "500105001001"
    referrals = Referral.objects.filter(
        Q(from_facility__division__code=home_room) | Q(to_facility__division__code=home_room)
    )
    assert referrals.filter(from_facility__division__code=home_room).exists()
    assert referrals.filter(to_facility__division__code=home_room).exists()
    assert referrals.filter(status=ReferralStatus.PENDING, due_on__lt=today).exists()

    # and no national ID or phone is stored in clear in any casework table
    with connection.cursor() as cursor:
        for table, column in (
            ("casework_resident", "national_id"),
            ("casework_resident", "phone"),
            ("casework_resident", "notes"),
            ("casework_household", "address"),
            ("casework_specialstatus", "certificate_number"),
            ("casework_case", "presenting_problem"),
            ("casework_casenote", "text"),
            ("casework_servicerecord", "notes"),
        ):
            cursor.execute(f"SELECT {column} FROM {table}")
            for (value,) in cursor.fetchall():
                assert not CLEAR_ID.search(value or ""), table
                assert not CLEAR_PHONE.search(value or ""), table
        cursor.execute("SELECT national_id FROM casework_resident LIMIT 1")
        assert cursor.fetchone()[0].startswith("gAAAA")  # a Fernet token

    # when the demo runs again
    counts = (Resident.objects.count(), ServiceRecord.objects.count(), Case.objects.count())
    # then it creates nothing
    assert demo_casework_create() == {}
    assert counts == (
        Resident.objects.count(),
        ServiceRecord.objects.count(),
        Case.objects.count(),
    )
