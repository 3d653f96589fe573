"""Retention (security.md 18): residents with nothing for longer than the retention period
and no open case are anonymised — exactly those; expired break-the-glass grants older than
a year are deleted; a dry run changes nothing; runs are audited."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from shegong.casework.models import (
    AccessGrant,
    Case,
    Consent,
    Resident,
    ServiceRecipient,
    ServiceRecord,
    SpecialStatus,
)
from shegong.casework.retention import ANONYMISED_NAME, cutoff_date, run_retention
from shegong.core.crypto import lookup_hash
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.services import facility_create
from tests.casework.world import make_resident, resident_id
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

COMMUNITY = "500105001001"
TODAY = timezone.localdate()
OLD = TODAY - timedelta(days=365 * 12)  # 12 years ago: expired under the default 10
RECENT = TODAY - timedelta(days=365 * 2)


@pytest.fixture
def room():
    return facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code=COMMUNITY),
        name="桥北社区社工室",
        status="operating",
        status_from=date(2000, 1, 1),
    )


@pytest.fixture
def worker():
    return make_user(Role.ROOM_WORKER, COMMUNITY, username="room-retention")


def old_resident(name: str, serial: int, *, phone="13800009999") -> Resident:
    """A resident registered and moved in 13 years ago."""
    resident = make_resident(name, COMMUNITY, serial, phone=phone)
    Resident.objects.filter(pk=resident.pk).update(
        created_at=timezone.now() - timedelta(days=365 * 13), notes="旧备注"
    )
    resident.residences.update(moved_in_on=TODAY - timedelta(days=365 * 13))
    resident.refresh_from_db()
    return resident


def served(resident: Resident, room, day: date) -> ServiceRecord:
    record = ServiceRecord.objects.create(
        facility=room,
        division=room.division,
        served_on=day,
        domain="social_assistance",
        method="visit",
        person_times=1,
    )
    ServiceRecipient.objects.create(record=record, resident=resident)
    return record


@pytest.fixture
def residents(room, worker):
    """expired: served 12 years ago; recent: served 2 years ago; open_case: old but with
    an open case; held: old but with a status still held; ended: a status that ended 12
    years ago."""
    expired = old_resident("过期", 1)
    served(expired, room, OLD)
    SpecialStatus.objects.create(
        resident=expired,
        group="disability",
        disability_category=4,
        disability_grade=2,
        certificate_number=resident_id(1) + "42",
        started_on=OLD - timedelta(days=100),
        ended_on=OLD,
        evidence="残疾证",
    )
    Consent.objects.create(resident=expired, purpose="service", given_on=OLD, given_by_name="过期")
    recent = old_resident("近期", 2)
    served(recent, room, RECENT)
    open_case = old_resident("在案", 3)
    served(open_case, room, OLD)
    Case.objects.create(
        number="C-RET-1",
        resident=open_case,
        facility=room,
        stage="intervention",
        referral_source="self",
        assigned_to=worker,
        supervisor=worker,
        opened_on=OLD,
    )
    held = old_resident("在册", 4)
    SpecialStatus.objects.create(resident=held, group="dibao", started_on=OLD)
    ended = old_resident("已结束", 5)
    SpecialStatus.objects.create(
        resident=ended, group="dibao", started_on=OLD - timedelta(days=300), ended_on=OLD
    )
    return {
        "expired": expired,
        "recent": recent,
        "open_case": open_case,
        "held": held,
        "ended": ended,
    }


@pytest.fixture
def grants(worker, residents):
    now = timezone.now()
    resident = residents["recent"]

    def grant(expires):
        return AccessGrant.objects.create(
            user=worker, resident=resident, reason="核实", expires_at=expires
        ).pk

    return {"old": grant(now - timedelta(days=400)), "recent": grant(now - timedelta(days=30))}


def test_retention_anonymises_exactly_what_expired(residents, grants):
    # when the retention job runs
    report = run_retention()
    # then exactly the expired residents are anonymised
    anonymised = set(
        Resident.objects.filter(anonymised_at__isnull=False).values_list("pk", flat=True)
    )
    assert anonymised == {residents["expired"].pk, residents["ended"].pk}
    assert report.residents == 2
    # and what identified them is gone
    gone = Resident.objects.get(pk=residents["expired"].pk)
    assert gone.name == ANONYMISED_NAME
    assert gone.national_id != resident_id(1)
    assert gone.national_id_hash != lookup_hash(resident_id(1))
    assert (gone.phone, gone.notes) == ("", "")
    status = gone.statuses.get()
    assert (status.certificate_number, status.evidence) == ("", "")
    assert gone.consents.get().given_by_name == ANONYMISED_NAME
    # but what statistics count stays
    assert ServiceRecipient.objects.filter(resident=gone).count() == 1
    assert status.group == "disability"
    # and the others are untouched
    for key in ("recent", "open_case", "held"):
        kept = Resident.objects.get(pk=residents[key].pk)
        assert kept.name == residents[key].name and kept.phone == "13800009999"
    # and the grant that expired over a year ago is deleted, the recent one kept
    assert set(AccessGrant.objects.values_list("pk", flat=True)) == {grants["recent"]}
    assert report.grants == 1
    # and the run is audited, naming row ids only
    assert AuditEvent.objects.filter(action="resident.anonymise").count() == 2
    summary = AuditEvent.objects.get(action="retention.run")
    assert summary.after["residents_anonymised"] == 2
    # a second run finds nothing more
    assert run_retention().residents == 0


def test_the_anonymised_id_can_be_registered_afresh(residents):
    from shegong.casework.services.residents import resident_create

    run_retention()
    again = resident_create(
        actor=None,
        name="回来了",
        national_id=resident_id(1),
        community=Division.objects.get(code=COMMUNITY),
    )
    assert again.pk != residents["expired"].pk


def test_dry_run_changes_nothing(residents, grants):
    out = StringIO()
    call_command("casework_retention", "--dry-run", stdout=out)
    assert "would anonymise 2 residents" in out.getvalue()
    assert "would delete 1 expired access grants" in out.getvalue()
    assert not Resident.objects.filter(anonymised_at__isnull=False).exists()
    assert AccessGrant.objects.count() == 2
    assert not AuditEvent.objects.filter(action__startswith="retention").exists()


def test_command_runs(residents):
    out = StringIO()
    call_command("casework_retention", stdout=out)
    assert "anonymised 2 residents" in out.getvalue()


def test_the_period_is_configuration(residents):
    # with a retention of 1 year, the resident served 2 years ago expires too
    with override_settings(SHEGONG_RETENTION_YEARS=1):
        assert cutoff_date() == cutoff_date(years=1)
        assert run_retention().residents == 3
    assert Resident.objects.get(pk=residents["recent"].pk).anonymised_at is not None
