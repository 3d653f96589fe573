"""A keyed audit chain (issue #12 item 5): rows sealed with an HMAC whose key is not in the
database, rotatable; signed checkpoints kept elsewhere; refused out-of-scope look-ups and
break-the-glass refusals recorded (rate-limited per user), with an "ids walked" alert."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from datetime import UTC

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from shegong.core import audit
from shegong.core.audit import audit_checkpoint, audit_record, audit_verify
from shegong.core.models import AuditChainHead, AuditEvent
from shegong.core.roles import Role
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _append(n: int) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action="test.event", object_repr=f"thing {i}") for i in range(n)
    ]


def _content(row: dict) -> bytes:
    content = {name: row[name] for name in audit._HASHED_FIELDS}
    content["occurred_at"] = row["occurred_at"].astimezone(UTC).isoformat(timespec="microseconds")
    content["key_id"] = row["key_id"]
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _rewrite_from(seq: int, forged: str, seal) -> None:
    """What someone with write access to the database does: edit row ``seq`` and recompute
    the seal and link of it and every row after it (and the head), with ``seal``."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_auditevent_no_update")
    rows = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq").values())
    previous = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else audit.GENESIS_HASH
    for row in rows:
        if row["seq"] == seq:
            row["object_repr"] = forged
        row["prev_hash"] = previous
        row["hash"] = previous = seal(_content(row))
    with connection.cursor() as cursor:
        # (two passes: the hash column is unique)
        for row in rows:
            cursor.execute(
                "UPDATE core_auditevent SET object_repr = %s, prev_hash = %s, hash = %s "
                "WHERE seq = %s",
                [row["object_repr"], row["prev_hash"], row["hash"][:-1] + "-", row["seq"]],
            )
        for row in rows:
            cursor.execute(
                "UPDATE core_auditevent SET hash = %s WHERE seq = %s", [row["hash"], row["seq"]]
            )
    AuditChainHead.objects.filter(pk=1).update(last_hash=previous)


def test_a_row_edited_and_resealed_without_the_key_is_detected():
    # given a chain of rows sealed with the audit key
    events = _append(5)
    assert all(e.key_id == audit.current_key_id() for e in events)
    # when a row is edited and every following seal recomputed as SHA-256 (no key)
    _rewrite_from(events[2].seq, "forged", lambda content: hashlib.sha256(content).hexdigest())
    # then verify names the edited row
    report = audit_verify()
    assert not report.ok and report.broken_seq == events[2].seq
    with pytest.raises(CommandError, match=f"row #{events[2].seq}"):
        call_command("audit", "verify")


def test_a_guessed_key_does_not_reseal_but_the_real_one_would(settings):
    events = _append(4)
    _rewrite_from(events[1].seq, "forged", lambda c: hmac.new(b"guess", c, "sha256").hexdigest())
    assert audit_verify().broken_seq == events[1].seq
    # (the same rewrite with the real key passes: what the checkpoints are for)
    key = settings.SHEGONG_AUDIT_KEYS[0].encode()
    _rewrite_from(events[1].seq, "forged", lambda c: hmac.new(key, c, "sha256").hexdigest())
    assert audit_verify().ok


def test_checkpoints_kept_elsewhere_catch_a_rewrite_with_the_key_and_a_cut_off_end(
    settings, tmp_path
):
    # given rows and a checkpoint written to a file outside the database
    events = _append(4)
    kept = tmp_path / "checkpoints.jsonl"
    call_command("audit", "checkpoint", "--output", str(kept), stdout=io.StringIO())
    out = io.StringIO()
    call_command("audit", "verify", "--checkpoints", str(kept), stdout=out)
    assert "1 checkpoint(s) match" in out.getvalue()
    # when an insider with the key rewrites a row before the checkpoint
    key = settings.SHEGONG_AUDIT_KEYS[0].encode()
    _rewrite_from(events[1].seq, "forged", lambda c: hmac.new(key, c, "sha256").hexdigest())
    # then the chain alone verifies, but not against the checkpoint
    assert audit_verify().ok
    with pytest.raises(CommandError, match="rewritten"):
        call_command("audit", "verify", "--checkpoints", str(kept))


def test_a_checkpoint_catches_rows_cut_off_the_end():
    _append(3)
    point = audit_checkpoint()
    # when the last rows are deleted and the head set back
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM core_auditevent WHERE seq >= %s", [point["seq"] - 1])
    last = AuditEvent.objects.order_by("-seq").first()
    AuditChainHead.objects.filter(pk=1).update(last_seq=last.seq, last_hash=last.hash)
    assert audit_verify().ok
    report = audit_verify([point])
    assert not report.ok and "cut off" in report.reason


def test_a_forged_checkpoint_is_refused():
    _append(2)
    point = audit_checkpoint() | {"seq": 1}
    assert "wrong signature" in audit_verify([point]).reason


def test_keys_rotate_and_older_rows_still_verify(settings):
    # given rows sealed with the first key
    old = _append(2)
    first = settings.SHEGONG_AUDIT_KEYS[0]
    # when a new key is put in front
    settings.SHEGONG_AUDIT_KEYS = ["a-new-audit-key-of-2027", first]
    new = _append(2)
    # then new rows use it, and the whole chain verifies
    assert new[0].key_id != old[0].key_id == audit.key_id(first)
    assert audit_verify().ok
    # and without the old key its rows cannot be checked, which verify says
    settings.SHEGONG_AUDIT_KEYS = ["a-new-audit-key-of-2027"]
    report = audit_verify()
    first_sealed = AuditEvent.objects.filter(key_id=old[0].key_id).order_by("seq").first()
    assert report.broken_seq == first_sealed.seq and "not configured" in report.reason


# --- Refusals -------------------------------------------------------------------------------


def test_out_of_scope_lookups_are_in_the_trail_and_walking_ids_raises_an_alert(client, users):
    # given a room worker who asks the API for other communities' residents, by id
    walker = users[Role.ROOM_WORKER]
    client.force_login(walker)
    for resident_id in range(900_001, 900_031):
        assert (
            client.get(reverse("api:get_resident", kwargs={"resident_id": resident_id})).status_code
            == 404
        )
    # then each refusal is in the trail, up to the per-minute limit
    refused = AuditEvent.objects.filter(action="scope.refused", actor=walker)
    assert refused.count() == audit.REFUSALS_PER_MINUTE
    assert (
        refused.first().outcome == "denied" and refused.first().object_type == "casework.resident"
    )
    client.get(reverse("api:get_resident", kwargs={"resident_id": 1}))
    assert refused.count() == audit.REFUSALS_PER_MINUTE  # rate-limited
    # and the audit administrator sees the alert
    client.force_login(users[Role.AUDIT_ADMIN])
    html = client.get(reverse("core:audit")).content.decode()
    assert 'data-testid="ids-walked"' in html and walker.username in html


def test_a_page_of_another_area_is_recorded_too(client, users):
    outsider_room = make_user(Role.ROOM_WORKER, "500107001001", username="yz-room")
    client.force_login(users[Role.COUNTY_STAFF])
    response = client.get(reverse("accounts:user_edit", kwargs={"pk": outsider_room.pk}))
    assert response.status_code in (403, 404)
    client.get(reverse("geo:detail", kwargs={"code": "500107"}))
    assert AuditEvent.objects.filter(
        action="scope.refused", actor=users[Role.COUNTY_STAFF], object_type="geo.division"
    ).exists()
