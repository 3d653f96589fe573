"""Writing and verifying the audit trail.

Every service that writes calls ``audit_record`` inside its own ``transaction.atomic`` block,
so the audit row and the change commit or roll back together.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from shegong.core.models import AuditChainHead, AuditEvent
from shegong.core.rows import insert_parts, insert_row, mark_saved

GENESIS_HASH = "0" * 64

# The client address of the request being served, set by SessionLimitsMiddleware.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)

_HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_division_code",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "ip_address",
    "outcome",
    "before",
    "after",
    "prev_hash",
)


def event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the previous event's hash."""
    content = {}
    for name in _HASHED_FIELDS:
        value = getattr(event, name)
        if name == "occurred_at":
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        content[name] = value
    encoded = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def audit_record(
    *,
    actor: Any | None,
    action: str,
    target: Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
    outcome: str = AuditEvent.Outcome.ALLOWED,
    ip_address: str | None = None,
    username: str = "",
) -> AuditEvent:
    """Append one audit event (call inside the transaction of the change it records)."""
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
        object_repr = object_repr or str(target)
    real_actor = actor if actor is not None and getattr(actor, "pk", None) else None
    event = AuditEvent(
        actor=real_actor,
        actor_username=(real_actor.get_username() if real_actor else username)[:150],
        actor_division_code=(real_actor.scope_prefix if real_actor else "") or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:255],
        ip_address=ip_address or current_ip.get(),
        outcome=outcome,
        before=before,
        after=after,
    )
    # No savepoint of its own: inside the caller's transaction the row commits or rolls back
    # with the change it records; alone, this is the transaction.
    with transaction.atomic(savepoint=False):
        last_seq, event.prev_hash = _head()
        event.seq = last_seq + 1
        event.occurred_at = timezone.now()  # under the lock: times follow the sequence
        event.hash = event_hash(event)
        _append(event)
    return event


def _head() -> tuple[int, str]:
    """Lock the chain head (held to the commit: it orders concurrent writers) and read the
    last sequence number and hash."""
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(f"SELECT last_seq, last_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                return int(row[0]), row[1]
            AuditChainHead.objects.get_or_create(pk=1)  # the very first event
    raise RuntimeError("the audit chain head could not be created")


def _append(event: AuditEvent) -> None:
    """Insert the event and make it the head (its sequence number and hash): one statement
    on PostgreSQL (a data-modifying WITH), two elsewhere."""
    events, columns, values = insert_parts(event)
    marks = ", ".join(["%s"] * len(values))
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    advance = f"UPDATE {head} SET last_seq = %s, last_hash = %s"  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH e AS (INSERT INTO {events} ({columns}) VALUES ({marks}) "  # noqa: S608
                f"RETURNING id) {advance} FROM e WHERE {head}.id = 1 RETURNING e.id",
                [*values, event.seq, event.hash],
            )
            event.pk = cursor.fetchone()[0]
            mark_saved(event)
        else:
            insert_row(event)
            cursor.execute(f"{advance} WHERE id = 1", [event.seq, event.hash])


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the audit chain."""

    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def audit_verify() -> ChainReport:
    """Walk the chain in order and report the first row whose hash or link is wrong."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    rows = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    for event in rows:
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"row #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "link to the previous row does not match")
        if event_hash(event) != event.hash:
            return ChainReport(checked, event.seq, "content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq != checked:
        return ChainReport(checked, checked + 1, "rows after the last one are missing")
    return ChainReport(checked)


def model_snapshot(instance: Model, fields: list[str]) -> dict[str, Any]:
    """A JSON-ready dict of the named fields, for an audit row's before/after."""
    snapshot: dict[str, Any] = {}
    for name in fields:
        value = getattr(instance, name)
        if isinstance(value, Model):
            value = value.pk
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        snapshot[name] = value
    return snapshot
