"""Service records written at the same moment on two database connections: every record
counts once in its monthly total, and the audit chain stays one unbroken sequence; a record
changed or deleted while its town is recoded into another county counts under one county.
On PostgreSQL the writers queue on the total's row, the division's row and the chain head;
SQLite serialises writers (BEGIN IMMEDIATE)."""

import threading
import time
from datetime import date

import pytest
from django.db import connections, transaction

from shegong.casework.models import ServiceMonthTotal, ServiceRecord
from shegong.casework.selectors.stats import month_totals_differences
from shegong.casework.services.records import service_record_create
from shegong.core.audit import audit_verify
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.geo.services import division_change_code
from shegong.network.models import Facility
from shegong.network.services import facility_create
from tests.casework.world import make_resident
from tests.conftest import load_divisions, make_user
from tests.funding.test_concurrency import _waiting_for_sqlite

PER_WRITER = 10


def _room():
    """The room of 桥北社区 (transactional tests start from a flush: divisions first)."""
    load_divisions()
    return facility_create(
        actor=None,
        tier="room",
        division=Division.objects.get(code="500105001001"),
        name="桥北社区社工室",
        status="operating",
        status_from=date(2020, 1, 1),
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_records_keep_their_totals_and_the_audit_chain_exact():
    # given a room, its worker and two residents
    room = _room()
    worker = make_user(Role.ROOM_WORKER, "500105001001", username="room-worker")
    people = [make_resident(f"居民{i}", "500105001001", 940 + i).pk for i in range(2)]
    barrier = threading.Barrier(2, timeout=30)
    failures: list[str] = []

    def write(resident_id: int):
        try:
            facility = Facility.objects.select_related("division").get(pk=room.pk)
            barrier.wait()
            for _ in range(PER_WRITER):
                _waiting_for_sqlite(
                    lambda: service_record_create(
                        worker,
                        facility=facility,
                        served_on=date(2024, 3, 5),
                        domain="social_assistance",
                        method="visit",
                        residents=[resident_id],
                        target_group="dibao",
                    )
                )
        except Exception as exc:  # reported by the assertion below
            failures.append(repr(exc))
        finally:
            connections.close_all()  # this thread's own connection

    # when two writers record ten home visits each at once, all in the same monthly total
    threads = [threading.Thread(target=write, args=(pk,)) for pk in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # then all twenty are written and counted once
    assert failures == []
    assert ServiceRecord.objects.count() == 2 * PER_WRITER
    total = ServiceMonthTotal.objects.get(
        county_code="500105",
        month=date(2024, 3, 1),
        target_group="dibao",
        domain="social_assistance",
        method="visit",
    )
    assert (total.records, total.person_times) == (2 * PER_WRITER, 2 * PER_WRITER)
    # and the chain holds every create, in one gapless sequence that verifies
    seqs = list(
        AuditEvent.objects.filter(action="service_record.create")
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert len(seqs) == 2 * PER_WRITER
    assert audit_verify().ok


def _one_record():
    room = _room()
    return ServiceRecord.objects.create(
        facility=room,
        division_id=room.division_id,
        served_on=date(2024, 3, 5),
        domain="social_assistance",
        method="visit",
        target_group="dibao",
        headcount=3,
        person_times=3,
    )


def _recode():
    division_change_code(
        actor=None,
        division=Division.objects.get(code="500105001"),
        new_code="500106991",
        effective_on=date(2024, 6, 1),
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["recode", "write"])
@pytest.mark.parametrize("write", ["delete", "update"])
def test_a_record_changed_while_its_town_is_recoded_counts_under_one_county(first, write):
    # given a record in 华新街, about to be recoded into 沙坪坝区 (500106)
    record = _one_record()

    def change():
        records = ServiceRecord.objects.filter(pk=record.pk)
        records.delete() if write == "delete" else records.update(person_times=5, headcount=5)

    steps = (_recode, change) if first == "recode" else (change, _recode)
    begun, failures = threading.Event(), []

    def one():  # starts first and holds its transaction open a moment
        try:
            with transaction.atomic():
                steps[0]()
                begun.set()
                time.sleep(0.5)
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            begun.set()
            connections.close_all()

    def other():
        try:
            begun.wait(10)
            _waiting_for_sqlite(steps[1])
        except Exception as exc:
            failures.append(repr(exc))
        finally:
            connections.close_all()

    # when the change and the recode overlap
    threads = [threading.Thread(target=one), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # then both happened and the totals equal the records
    assert failures == []
    assert Division.objects.filter(code="500106991001").exists()
    assert month_totals_differences() == []
