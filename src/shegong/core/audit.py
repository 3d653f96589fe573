"""Writing and verifying the audit trail.

Every service that writes calls ``audit_record`` inside its own ``transaction.atomic`` block,
so the audit row and the change commit or roll back together.

The chain is keyed (issue #12 item 5): each row's hash is an HMAC-SHA256, with the newest of
``SHEGONG_AUDIT_KEYS`` (kept outside the database), over its content and the previous row's
hash; the row names its key (``key_id``), so keys can be rotated and older rows still
verify. Someone with write access to the database can edit a row but cannot re-seal it and
the rows after it. ``audit_checkpoint`` signs the head of the chain (sequence, hash, time);
an operator keeps these checkpoints elsewhere, and ``audit_verify`` checks the chain and
any checkpoints given to it — a rewritten history or a cut-off end no longer matches them.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
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


class UnknownAuditKey(LookupError):
    """A row was sealed with a key that is not configured."""


def key_id(key: str) -> str:
    """The public name of an audit key: the start of its SHA-256 (never the key)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def audit_keys() -> dict[str, bytes]:
    """The configured audit keys by their id (newest first)."""
    return {key_id(key): key.encode("utf-8") for key in settings.SHEGONG_AUDIT_KEYS}


def current_key_id() -> str:
    return key_id(settings.SHEGONG_AUDIT_KEYS[0])


def _canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def event_hash(event: AuditEvent) -> str:
    """The event's seal: an HMAC-SHA256, with its audit key, over its content (its key id
    included) and the previous event's hash. Rows from before the chain was keyed
    (``key_id`` NULL) keep their plain SHA-256."""
    content = {}
    for name in _HASHED_FIELDS:
        value = getattr(event, name)
        if name == "occurred_at":
            value = value.astimezone(UTC).isoformat(timespec="microseconds")
        content[name] = value
    if event.key_id is None:
        return hashlib.sha256(_canonical(content)).hexdigest()
    key = audit_keys().get(event.key_id)
    if key is None:
        raise UnknownAuditKey(event.key_id)
    content["key_id"] = event.key_id
    return hmac.new(key, _canonical(content), hashlib.sha256).hexdigest()


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
    event.key_id = current_key_id()
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


def audit_verify(checkpoints: Iterable[dict] = ()) -> ChainReport:
    """Walk the chain in order and report the first row whose seal or link is wrong (or
    sealed with a key that is not configured); then check each checkpoint: its signature,
    and that the chain still holds its row with its hash."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    rows = AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)
    for event in rows:
        if event.seq != expected_seq:
            return ChainReport(checked, expected_seq, f"row #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.seq, "link to the previous row does not match")
        try:
            sealed = event_hash(event)
        except UnknownAuditKey:
            return ChainReport(
                checked, event.seq, f"sealed with audit key {event.key_id}, not configured"
            )
        if not hmac.compare_digest(sealed, event.hash):
            return ChainReport(checked, event.seq, "content does not match its seal")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.last_seq != checked:
        return ChainReport(checked, checked + 1, "rows after the last one are missing")
    for point in checkpoints:
        problem = checkpoint_problem(point, checked)
        if problem:
            return ChainReport(checked, int(point.get("seq", 0) or 0), problem)
    return ChainReport(checked)


# --- Signed checkpoints -------------------------------------------------------------------


def _checkpoint_signature(point: dict, key: bytes) -> str:
    fields = {name: point[name] for name in ("seq", "hash", "at", "key_id")}
    return hmac.new(key, _canonical({"checkpoint": fields}), hashlib.sha256).hexdigest()


def audit_checkpoint() -> dict:
    """A signed statement of the chain's head now — {seq, hash, at, key_id, signature} —
    for an operator to keep outside the database (``shegong audit checkpoint``)."""
    head = AuditChainHead.objects.filter(pk=1).first()
    point = {
        "seq": head.last_seq if head else 0,
        "hash": head.last_hash if head else GENESIS_HASH,
        "at": timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
        "key_id": current_key_id(),
    }
    point["signature"] = _checkpoint_signature(point, audit_keys()[point["key_id"]])
    return point


def checkpoint_problem(point: dict, rows: int) -> str:
    """What is wrong with a checkpoint against the chain (empty if nothing)."""
    try:
        seq = int(point["seq"])
        key = audit_keys().get(point["key_id"])
        datetime.fromisoformat(point["at"])
        signature = point["signature"]
    except (KeyError, TypeError, ValueError):
        return "a checkpoint cannot be read"
    if key is None:
        return f"checkpoint #{seq} is signed with audit key {point['key_id']}, not configured"
    if not hmac.compare_digest(_checkpoint_signature(point, key), str(signature)):
        return f"checkpoint #{seq} has a wrong signature"
    if seq == 0:
        return ""
    if seq > rows:
        return f"the chain ends at row #{rows}, before checkpoint #{seq}: rows were cut off"
    row = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if row != point["hash"]:
        return f"row #{seq} no longer has the hash of its checkpoint: the history was rewritten"
    return ""


# --- Refusals and "ids walked" -------------------------------------------------------------

# At most this many refusals of one user are recorded a minute: enough to see someone walk
# ids, not enough for them to flood the trail.
REFUSALS_PER_MINUTE = 30
# An alert when a user's refused look-ups in a day reach this.
WALK_THRESHOLD = 20


def audit_refusal(*, actor, action: str, **fields) -> bool:
    """Record a refused request (outcome denied) unless the user already had
    ``REFUSALS_PER_MINUTE`` refusals recorded in the last minute; returns whether it was."""
    if actor is None or not getattr(actor, "pk", None):
        return False
    since = timezone.now() - timedelta(minutes=1)
    recent = AuditEvent.objects.filter(
        actor_id=actor.pk, outcome=AuditEvent.Outcome.DENIED, occurred_at__gte=since
    ).count()
    if recent >= REFUSALS_PER_MINUTE:
        return False
    audit_record(actor=actor, action=action, outcome=AuditEvent.Outcome.DENIED, **fields)
    return True


def ids_walked(events, *, hours: int = 24, threshold: int = WALK_THRESHOLD) -> list[dict]:
    """Users whose look-ups of records they may not see (``scope.refused``) reached
    ``threshold`` in the last ``hours``: the audit administrator's alert of someone walking
    ids. ``events`` is the audit administrator's scoped queryset."""
    from django.db.models import Count, Max, Min

    since = timezone.now() - timedelta(hours=hours)
    rows = (
        events.filter(action="scope.refused", occurred_at__gte=since)
        .values("actor_username", "actor_division_code")
        .annotate(
            refused=Count("id"),
            kinds=Count("object_type", distinct=True),
            first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .filter(refused__gte=threshold)
        .order_by("-refused")
    )
    return list(rows)


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
