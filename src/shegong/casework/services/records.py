"""Writes: service records (issue #6 item 5).

One record per service event. ``person_times`` is derived here and nowhere else: the
registered residents served plus the unregistered head-count — a group session with 12
attendees is 12, a head-count of 40 is 40, one resident served on three occasions is three
records of 1 each, 3 in all.

The write path is benchmarked (150 records/s through the API on 2 cores), so it keeps to a
handful of statements: one scoped ``IN`` query for the residents (ids only, nothing is
decrypted; for a single resident without a target group it brings their statuses too, for
the default group), one insert of the record and one of its recipients (``core.rows``: the
fields prepare the values as the ORM would, without its query building), and the audit row
— written last, so that the audit chain's head row is locked for as short a time as
possible. The record's monthly total is kept by a database trigger (migration 0003).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.casework.models import (
    Activity,
    Case,
    CaseStage,
    GroupMember,
    GroupStage,
    Resident,
    ServiceDomain,
    ServiceMethod,
    ServiceRecipient,
    ServiceRecord,
    SpecialGroup,
    WorkGroup,
)
from shegong.core.audit import audit_record
from shegong.core.permissions import MissingPermission
from shegong.core.rows import insert_row, insert_values
from shegong.core.scoping import VIEW

# Stages of a project in which its services are delivered (records may name it).
PROJECT_DELIVERY_STAGES = frozenset(
    {"contract", "in_progress", "midterm_evaluation", "final_evaluation"}
)
EARLIEST_DAY = date(2000, 1, 1)
MAX_HEADCOUNT = 100_000
MAX_MINUTES = 24 * 60
MAX_RESIDENTS = 500


def _in_scope(actor, code: str) -> bool:
    return actor is None or code.startswith(actor.scope_prefix or "\x00")


def _resident_ids(value: Iterable) -> list[int]:
    """Resident ids from residents or ids, de-duplicated, order kept."""
    seen: dict[int, None] = {}
    for item in value or ():
        pk = item.pk if isinstance(item, Resident) else item
        try:
            seen[int(pk)] = None
        except (TypeError, ValueError) as exc:
            raise ValidationError({"residents": [_("Choose residents from the list.")]}) from exc
    return list(seen)


def _check_residents_in_scope(actor, ids: list[int], day: date, with_group: bool) -> str:
    """One scoped ``IN`` query; a resident the actor cannot see does not exist for them
    (404, like every out-of-scope object). With ``with_group`` (one resident, no target
    group given) the same query also brings the resident's statuses, from which the
    default target group is taken: the special group of their longest-standing status
    active on ``day``."""
    if not ids or (actor is None and not with_group):
        return ""
    if len(ids) > MAX_RESIDENTS:
        raise ValidationError(
            {"residents": [_("At most %(n)d residents in one record.") % {"n": MAX_RESIDENTS}]}
        )
    residents = Resident.objects.all() if actor is None else Resident.objects.restrict(actor, VIEW)
    residents = residents.filter(pk__in=ids, anonymised_at__isnull=True).order_by()
    if not with_group:
        found = set(residents.values_list("pk", flat=True))
        if actor is not None and len(found) != len(ids):
            raise Http404
        return ""
    # one row per status of the (single) resident, or one row of Nones without any
    rows = list(
        residents.values_list(
            "pk", "statuses__started_on", "statuses__id", "statuses__ended_on", "statuses__group"
        )
    )
    if actor is not None and not rows:
        raise Http404
    active = sorted(
        (started, pk, group)
        for _resident, started, pk, ended, group in rows
        if started is not None and started <= day and (ended is None or ended >= day)
    )
    return active[0][2] if active else ""


def service_record_create(
    actor,
    *,
    facility,
    served_on: date,
    domain: str,
    method: str,
    residents: Sequence = (),
    headcount: int = 0,
    duration_minutes: int = 30,
    place: str = "",
    notes: str = "",
    case: Case | None = None,
    group: WorkGroup | None = None,
    activity: Activity | None = None,
    project=None,
    target_group: str = "",
    poverty_alleviation: bool = False,
    workers: Sequence = (),
    volunteers: str = "",
    session_plan: str = "",
) -> ServiceRecord:
    """Record one service event (see the module's docstring). Refused with a field-keyed
    message, nothing written: a date in the future (or before 2000), nobody served, an
    unknown domain or method, a case not in intervention, a group session with someone who
    is not a member; a resident, case, group, activity or project outside the actor's scope
    answers 404. ``actor=None`` is the system (demo data, imports)."""
    errors: dict[str, list[str]] = {}
    if actor is not None:
        if not actor.has_perm("casework.add_servicerecord"):
            raise MissingPermission("casework.add_servicerecord")
        if not _in_scope(actor, facility.division.code):
            raise Http404
    if facility.status == "closed":
        errors.setdefault("facility", []).append(_("The facility is closed."))
    if not isinstance(served_on, date):
        errors.setdefault("served_on", []).append(_("Give the date of the service."))
    elif served_on > timezone.localdate():
        errors.setdefault("served_on", []).append(_("The date cannot be in the future."))
    elif served_on < EARLIEST_DAY:
        errors.setdefault("served_on", []).append(_("The date is too far in the past."))
    if domain not in ServiceDomain.values:
        errors.setdefault("domain", []).append(_("Choose the service domain."))
    if method not in ServiceMethod.values:
        errors.setdefault("method", []).append(_("Choose how the service was given."))
    if target_group and target_group not in SpecialGroup.values:
        errors.setdefault("target_group", []).append(_("Unknown special group."))
    try:
        headcount = int(headcount or 0)
        duration_minutes = int(duration_minutes)
    except (TypeError, ValueError):
        errors.setdefault("headcount", []).append(_("Give whole numbers."))
        headcount, duration_minutes = 0, 30
    if not 0 <= headcount <= MAX_HEADCOUNT:
        errors.setdefault("headcount", []).append(
            _("The head-count is from 0 to %(n)d.") % {"n": MAX_HEADCOUNT}
        )
    if not 1 <= duration_minutes <= MAX_MINUTES:
        errors.setdefault("duration_minutes", []).append(
            _("The duration is from 1 to %(n)d minutes.") % {"n": MAX_MINUTES}
        )
    ids = _resident_ids(residents)
    if case is not None:
        if actor is not None and not _in_scope(actor, case.facility.division.code):
            raise Http404
        if case.stage != CaseStage.INTERVENTION:
            errors.setdefault("case", []).append(
                _("Service records belong to the intervention stage; this case is at “%(stage)s”.")
                % {"stage": case.get_stage_display()}
            )
        if not ids and not headcount:
            ids = [case.resident_id]
    if (
        group is not None
        and actor is not None
        and not _in_scope(actor, group.facility.division.code)
    ):
        raise Http404
    if activity is not None and (
        actor is not None and not _in_scope(actor, activity.facility.division.code)
    ):
        raise Http404
    if project is not None:
        from shegong.projects.models import Project

        if actor is not None and not (
            Project.objects.restrict(actor, VIEW).filter(pk=project.pk).exists()
        ):
            raise Http404
        if project.stage not in PROJECT_DELIVERY_STAGES:
            errors.setdefault("project", []).append(
                _("Services can only be linked to a project that is under way.")
            )
    if not ids and headcount == 0:
        errors.setdefault("residents", []).append(
            _("Nobody was served: choose a resident or give a head-count.")
        )
    if errors:
        raise ValidationError(errors)
    default_group = _check_residents_in_scope(
        actor, ids, served_on, with_group=not target_group and len(ids) == 1
    )
    target_group = target_group or default_group
    if group is not None and ids:
        _check_members(group, ids, served_on)
    return _write(
        actor,
        facility=facility,
        served_on=served_on,
        domain=domain,
        method=method,
        ids=ids,
        headcount=headcount,
        duration_minutes=duration_minutes,
        place=(place or "").strip()[:200],
        notes=(notes or "").strip(),
        case=case,
        group=group,
        activity=activity,
        project=project,
        target_group=target_group,
        poverty_alleviation=bool(poverty_alleviation),
        workers=list(workers or ()),
        volunteers=(volunteers or "").strip()[:300],
        session_plan=(session_plan or "").strip(),
    )


def _check_members(group: WorkGroup, ids: list[int], day: date) -> None:
    """Attendees of a group session are its members (who had not left by that day)."""
    members = set(
        GroupMember.objects.filter(group=group, resident_id__in=ids)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=day))
        .values_list("resident_id", flat=True)
    )
    if len(members) != len(ids):
        raise ValidationError(
            {"residents": [_("Only members of the group can attend its sessions.")]}
        )


def _write(actor, *, ids, workers, group, **fields) -> ServiceRecord:
    with transaction.atomic():
        session_number = None
        if group is not None:
            # Lock the group so that two sessions recorded at once get different numbers.
            stage = (
                WorkGroup.objects.select_for_update()
                .filter(pk=group.pk)
                .values_list("stage", flat=True)
                .first()
            )
            if stage == GroupStage.PREPARATION:
                raise ValidationError(
                    {"group": [_("The group is still in preparation: move it to formation first.")]}
                )
            last = ServiceRecord.objects.filter(group=group).aggregate(n=Max("session_number"))
            session_number = (last["n"] or 0) + 1
        facility = fields["facility"]
        record = ServiceRecord(
            division_id=facility.division_id,
            group=group,
            session_number=session_number,
            headcount=fields.pop("headcount"),
            person_times=len(ids),
            recorded_by=actor if actor is not None and actor.pk else None,
            **fields,
        )
        record.person_times += record.headcount
        insert_row(record)
        insert_values(ServiceRecipient, ("record", "resident"), [(record.pk, pk) for pk in ids])
        if workers:
            record.workers.set(workers)
        audit_record(
            actor=actor,
            action="service_record.create",
            target=record,
            object_repr=f"service record #{record.pk}",
            after={
                "facility": facility.pk,
                "served_on": record.served_on.isoformat(),
                "domain": record.domain,
                "method": record.method,
                "residents": len(ids),
                "headcount": record.headcount,
                "person_times": record.person_times,
                "case": record.case_id,
                "group": record.group_id,
                "session": session_number,
                "activity": record.activity_id,
                "project": record.project_id,
            },
        )
    return record


def service_month_totals_rebuild(*, actor=None) -> int:
    """Recompute every ``ServiceMonthTotal`` from the service records in one statement
    (after a bulk load that ran with the triggers switched off, or to mend totals that
    ``month_totals_differences`` found wrong); returns the number of rows. Audited."""
    from shegong.casework.models import ServiceMonthTotal

    total = connection.ops.quote_name(ServiceMonthTotal._meta.db_table)
    record = connection.ops.quote_name(ServiceRecord._meta.db_table)
    month = (
        "date_trunc('month', r.served_on::timestamp)::date"
        if connection.vendor == "postgresql"
        else "date(r.served_on, 'start of month')"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # records written meanwhile wait (their trigger's upsert) and count once, after
            cursor.execute(f"LOCK TABLE {total} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {total}")  # noqa: S608
        cursor.execute(
            f"INSERT INTO {total} (county_code, month, target_group, domain, method, "  # noqa: S608
            "records, person_times, poverty_person_times) "
            f"SELECT substr(d.code, 1, 6), {month}, r.target_group, r.domain, r.method, "
            "count(*), sum(r.person_times), "
            "sum(CASE WHEN r.poverty_alleviation THEN r.person_times ELSE 0 END) "
            f"FROM {record} r JOIN geo_division d ON d.id = r.division_id "
            "GROUP BY 1, 2, 3, 4, 5"
        )
        rows = ServiceMonthTotal.objects.count()
        audit_record(
            actor=actor,
            action="service_month_totals.rebuild",
            object_type="casework.servicemonthtotal",
            object_repr="monthly service totals",
            after={"rows": rows},
        )
    return rows
