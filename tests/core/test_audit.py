"""The audit trail: appended in the write's transaction, append-only, hash-chained."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from shegong.core.audit import audit_record, audit_verify
from shegong.core.models import AppendOnlyError, AuditChainHead, AuditEvent

pytestmark = pytest.mark.django_db


def _append(n: int, user=None) -> list[AuditEvent]:
    return [
        audit_record(actor=user, action="test.event", object_repr=f"thing {i}") for i in range(n)
    ]


def _disable_update_guard():
    """What someone with direct database access would do before tampering."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"
            )
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")


def test_rows_chain_and_verify(county_user):
    # given some audited actions
    events = _append(3, county_user)
    # then each row links to the previous one and the chain verifies
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert events[0].actor_division_code == "500105"
    report = audit_verify()
    assert report.ok and report.checked == AuditEvent.objects.count()


def test_editing_a_row_in_the_database_breaks_the_chain_at_that_row():
    # given a chain
    events = _append(4)
    target = events[2]
    # when a row is edited directly in the database
    _disable_update_guard()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET object_repr = %s WHERE seq = %s", ["forged", target.seq]
        )
    # then verify names that row
    report = audit_verify()
    assert not report.ok
    assert report.broken_seq == target.seq
    assert "content does not match" in report.reason
    with pytest.raises(CommandError, match=f"row #{target.seq}"):
        call_command("audit", "verify")


def test_deleting_a_row_in_the_database_is_detected():
    events = _append(3)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only"
            )
        cursor.execute("DELETE FROM core_auditevent WHERE seq = %s", [events[1].seq])
    report = audit_verify()
    assert report.broken_seq == events[1].seq and "missing" in report.reason


def test_the_database_refuses_updates_to_audit_rows():
    event = _append(1)[0]
    with (
        pytest.raises(Exception, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE core_auditevent SET action = 'x' WHERE seq = %s", [event.seq])
    event.refresh_from_db()
    assert event.action == "test.event"


def test_the_application_cannot_update_or_delete_audit_rows():
    event = _append(1)[0]
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_an_audit_row_rolls_back_with_its_change():
    before = (AuditEvent.objects.count(), AuditChainHead.objects.first())
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=None, action="test.doomed")
        raise RuntimeError("the change failed")
    assert AuditEvent.objects.count() == before[0]
    assert audit_verify().ok


def test_verify_command_reports_an_intact_chain(capsys):
    _append(2)
    call_command("audit", "verify")
    assert "audit chain intact" in capsys.readouterr().out
