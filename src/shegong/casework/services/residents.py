"""Writes for residents and households: registration (with de-duplication by the keyed ID
hash), edits (version-checked), moving house, household members, guardians, consents and
special-group statuses.

Every function validates, writes and audits in one transaction, takes keyword-only
arguments with ``actor`` first, and raises ``ValidationError`` keyed by field with a
message for the user — nothing is written then. Audit rows name residents by their row id
and carry masked values only: never a name, a clear national ID or a phone.
"""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.casework.models import (
    Consent,
    ConsentPurpose,
    DisabilityCategory,
    Household,
    Relationship,
    Residence,
    Resident,
    SpecialGroup,
    SpecialStatus,
)
from shegong.core.audit import audit_record
from shegong.core.crypto import lookup_hash
from shegong.core.permissions import MissingPermission
from shegong.core.validators import (
    check_not_future,
    clean_text,
    mask_phone,
    parse_national_id,
)
from shegong.geo.models import Division, Level

# Age under which a consent must be given by the guardian (and the guardian recorded).
CONSENT_GUARDIAN_AGE = 14
# Age from which a resident may be someone's guardian.
ADULT_AGE = 18
# Age limits of the special groups when settings do not say otherwise (domain.md): "under"
# means younger than the value on the status's start date, "at_least" that age or older.
DEFAULT_SPECIAL_GROUP_AGES: dict[str, dict[str, int]] = {
    "left_behind_child": {"under": 16},
    "orphan": {"under": 18},
    "unsupported_child": {"under": 18},
    "child_in_difficulty": {"under": 18},
    "left_behind_elder": {"at_least": 60},
}

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
# A landline: an optional area code (0 + 2–3 digits) and a 7–8 digit number.
_LANDLINE = re.compile(r"^(0[0-9]{2,3})?[2-9][0-9]{6,7}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")


class StaleEdit(ValidationError):
    """The record changed since the user loaded it (pages and the API answer 409)."""


def special_group_ages() -> dict[str, dict[str, int]]:
    """The configured age limits of the special groups (``SHEGONG_SPECIAL_GROUP_AGES``)."""
    return getattr(settings, "SHEGONG_SPECIAL_GROUP_AGES", DEFAULT_SPECIAL_GROUP_AGES)


# --- checks -----------------------------------------------------------------------------------


def _check(actor, perm: str, division: Division) -> None:
    """The actor's role may do this, and the division is in their scope (else 404)."""
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise MissingPermission(perm)
    prefix = actor.scope_prefix
    if not prefix or not division.code.startswith(prefix):
        raise Http404


def clean_phone(value: str | None) -> str:
    """A phone number as digits: an 11-digit mobile number or a landline (area code
    optional); separators (spaces, hyphens, brackets) are dropped. Empty stays empty."""
    digits = _PHONE_SEPARATORS.sub("", value or "")
    if not digits:
        return ""
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    raise ValidationError(
        {
            "phone": _(
                "A phone number is an 11-digit mobile number or a landline number "
                "(area code and 7 or 8 digits)."
            )
        }
    )


def _parse_id(value: str):
    try:
        return parse_national_id(value)
    except ValidationError as exc:
        raise ValidationError({"national_id": exc.messages}) from exc


def _community(division: Division | None, field: str = "community") -> Division:
    if division is None or division.level != Level.COMMUNITY:
        raise ValidationError(
            {field: _("Choose a community (a residents' or villagers' committee).")}
        )
    return division


def _already_registered(existing: Resident) -> ValidationError:
    """The de-duplication refusal: it names the community the person is registered in (to
    ask for a transfer) and nothing else about them."""
    return ValidationError(
        {
            "national_id": _(
                "A resident with this national ID is already registered in %(community)s."
            )
            % {"community": existing.community.name}
        }
    )


def _repr(resident: Resident) -> str:
    return f"resident #{resident.pk}"


# --- residents --------------------------------------------------------------------------------


def resident_find_by_national_id(*, user, national_id: str) -> Resident | None:
    """Exact search by national ID through the keyed hash, in ``user``'s scope only."""
    try:
        number = parse_national_id(national_id).number
    except ValidationError:
        return None
    return (
        Resident.objects.restrict(user, "view")
        .select_related("community")
        .filter(national_id_hash=lookup_hash(number))
        .first()
    )


@transaction.atomic
def resident_create(
    *,
    actor,
    name: str,
    national_id: str,
    community: Division,
    phone: str = "",
    registered_in: Division | None = None,
    notes: str = "",
    moved_in_on: date | None = None,
) -> Resident:
    """Register a resident of ``community`` (in the actor's scope). The national ID is
    validated and may be registered once only; the phone is checked. A ``Residence`` row
    opens the residence history."""
    _community(community)
    _check(actor, "casework.add_resident", community)
    errors: dict[str, list[str]] = {}
    parsed = None
    try:
        parsed = _parse_id(national_id)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        name = clean_text(name, "name", _("Give the resident's name."), 100)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        phone = clean_phone(phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    moved_in_on = moved_in_on or timezone.localdate()
    try:
        check_not_future(moved_in_on, "moved_in_on")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if parsed.birth_date > moved_in_on:
        raise ValidationError({"moved_in_on": _("The resident was not born yet on that date.")})
    id_hash = lookup_hash(parsed.number)
    existing = Resident.objects.select_related("community").filter(national_id_hash=id_hash).first()
    if existing is not None:
        raise _already_registered(existing)
    resident = Resident(
        name=name,
        national_id=parsed.number,
        national_id_hash=id_hash,
        phone=phone,
        community=community,
        registered_in=registered_in,
        notes=(notes or "").strip(),
    )
    try:
        with transaction.atomic():
            resident.save()
    except IntegrityError as exc:  # registered at the same moment by someone else
        existing = Resident.objects.select_related("community").get(national_id_hash=id_hash)
        raise _already_registered(existing) from exc
    Residence.objects.create(resident=resident, community=community, moved_in_on=moved_in_on)
    audit_record(
        actor=actor,
        action="resident.create",
        target=resident,
        object_repr=_repr(resident),
        after={
            "community": community.code,
            "national_id": resident.national_id_masked,
            "phone": mask_phone(phone),
            "registered_in": registered_in.code if registered_in else None,
        },
    )
    return resident


def _audit_view(resident: Resident) -> dict:
    return {
        "phone": mask_phone(resident.phone),
        "registered_in": resident.registered_in.code if resident.registered_in_id else None,
        "has_notes": bool(resident.notes),
        "version": resident.version,
    }


@transaction.atomic
def resident_update(
    *,
    actor,
    resident: Resident,
    version: int,
    name: str | None = None,
    phone: str | None = None,
    registered_in: Division | bool | None = False,
    notes: str | None = None,
) -> Resident:
    """Edit a resident's name, phone, household registration or notes. ``version`` is the
    one the user saw: a stale one raises ``StaleEdit`` (nothing written). The national ID
    and the community do not change here (a move is ``resident_transfer``). Arguments left
    as None (``registered_in``: False) are kept."""
    locked = Resident.objects.select_for_update().select_related("community").get(pk=resident.pk)
    _check(actor, "casework.change_resident", locked.community)
    if locked.anonymised_at is not None:
        raise ValidationError(_("This resident was anonymised and cannot be edited."))
    if int(version) != locked.version:
        raise StaleEdit(
            _("Someone else changed this resident in the meantime; reload and try again.")
        )
    before = _audit_view(locked)
    changed = []
    errors: dict[str, list[str]] = {}
    if name is not None:
        try:
            new_name = clean_text(name, "name", _("Give the resident's name."), 100)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if new_name != locked.name:
                locked.name = new_name
                changed.append("name")
    if phone is not None:
        try:
            new_phone = clean_phone(phone)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if new_phone != locked.phone:
                locked.phone = new_phone
                changed.append("phone")
    if errors:
        raise ValidationError(errors)
    if registered_in is not False and (
        (registered_in.pk if registered_in else None) != locked.registered_in_id
    ):
        locked.registered_in = registered_in
        changed.append("registered_in")
    if notes is not None and notes.strip() != (locked.notes or ""):
        locked.notes = notes.strip()
        changed.append("notes")
    if not changed:
        return locked
    locked.version += 1
    locked.save()
    after = _audit_view(locked)
    after["changed"] = changed
    audit_record(
        actor=actor,
        action="resident.update",
        target=locked,
        object_repr=_repr(locked),
        before=before,
        after=after,
    )
    return locked


def transfer_target_allowed(source: Division, target: Division) -> bool:
    """A resident may move to any community of the same city (the same municipality: the
    first two digits of the code)."""
    return target.level == Level.COMMUNITY and target.code[:2] == source.code[:2]


@transaction.atomic
def resident_transfer(
    *,
    actor,
    resident: Resident,
    to_community: Division,
    moved_on: date | None = None,
    reason: str = "",
) -> Resident:
    """Move a resident to another community of the city: the open residence is closed on
    ``moved_on``, a new one opens there, and the resident's community changes. The actor
    must have the *current* community in scope; the target may lie outside it (moving
    across scopes is the point). Audited with both community codes."""
    locked = Resident.objects.select_for_update().select_related("community").get(pk=resident.pk)
    source = locked.community
    _check(actor, "casework.change_resident", source)
    moved_on = moved_on or timezone.localdate()
    check_not_future(moved_on, "moved_on")
    if to_community is None or not transfer_target_allowed(source, to_community):
        raise ValidationError(
            {"to_community": _("Choose a community of the city to move the resident to.")}
        )
    if to_community.pk == source.pk:
        raise ValidationError({"to_community": _("The resident already lives in this community.")})
    current = Residence.objects.filter(resident=locked, moved_out_on__isnull=True).first()
    if current is not None:
        if moved_on < current.moved_in_on:
            raise ValidationError(
                {
                    "moved_on": _(
                        "The move cannot be before the resident moved into the current "
                        "community (%(day)s)."
                    )
                    % {"day": current.moved_in_on.isoformat()}
                }
            )
        current.moved_out_on = moved_on
        current.save(update_fields=["moved_out_on"])
    reason = (reason or "").strip()[:200]
    Residence.objects.create(
        resident=locked, community=to_community, moved_in_on=moved_on, reason=reason
    )
    locked.community = to_community
    locked.version += 1
    locked.save(update_fields=["community", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="resident.transfer",
        target=locked,
        object_repr=_repr(locked),
        before={"community": source.code},
        after={"community": to_community.code, "moved_on": moved_on.isoformat()},
    )
    return locked


# --- households and guardians ---------------------------------------------------------------


@transaction.atomic
def household_create(
    *, actor, head: Resident, address: str = "", community: Division | None = None
) -> Household:
    """A household of ``head``'s community, with ``head`` as its head."""
    community = community or head.community
    _community(community)
    _check(actor, "casework.add_household", community)
    head = Resident.objects.select_for_update().get(pk=head.pk)
    if head.household_id is not None:
        raise ValidationError({"resident": _("This resident already belongs to a household.")})
    household = Household.objects.create(community=community, address=(address or "").strip())
    head.household = household
    head.relationship = Relationship.HEAD
    head.version += 1
    head.save(update_fields=["household", "relationship", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="household.create",
        target=household,
        object_repr=f"household #{household.pk}",
        after={"community": community.code, "head": head.pk},
    )
    return household


@transaction.atomic
def household_member_add(
    *, actor, household: Household, resident: Resident, relationship: str
) -> Resident:
    """Add ``resident`` to ``household`` with their relationship to the head (one head per
    household; a resident belongs to one household)."""
    _check(actor, "casework.add_household", household.community)
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": _("Choose the relationship to the head.")})
    member = Resident.objects.select_for_update().select_related("community").get(pk=resident.pk)
    _check(actor, "casework.change_resident", member.community)
    if member.household_id == household.pk:
        raise ValidationError({"member": _("This resident is already a member of the household.")})
    if member.household_id is not None:
        raise ValidationError({"member": _("This resident already belongs to another household.")})
    if (
        relationship == Relationship.HEAD
        and Resident.objects.filter(household=household, relationship=Relationship.HEAD).exists()
    ):
        raise ValidationError({"relationship": _("The household already has a head.")})
    member.household = household
    member.relationship = relationship
    member.version += 1
    member.save(update_fields=["household", "relationship", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="household.member_add",
        target=household,
        object_repr=f"household #{household.pk}",
        after={"resident": member.pk, "relationship": relationship},
    )
    return member


@transaction.atomic
def guardian_set(
    *, actor, resident: Resident, guardian: Resident | None, relationship: str = ""
) -> Resident:
    """Record (or clear, with None) a resident's guardian: another registered resident who
    is an adult. A minor needs one before a consent can be given for them."""
    ward = Resident.objects.select_for_update().select_related("community").get(pk=resident.pk)
    _check(actor, "casework.change_resident", ward.community)
    today = timezone.localdate()
    before = {"guardian": ward.guardian_id}
    if guardian is None:
        ward.guardian = None
        ward.guardian_relationship = ""
    else:
        if guardian.pk == ward.pk:
            raise ValidationError({"guardian": _("A resident cannot be their own guardian.")})
        if guardian.anonymised_at is not None or guardian.age_on(today) < ADULT_AGE:
            raise ValidationError({"guardian": _("The guardian must be an adult resident.")})
        relationship = clean_text(
            relationship, "relationship", _("Say how the guardian is related."), 50
        )
        ward.guardian = guardian
        ward.guardian_relationship = relationship
    ward.version += 1
    ward.save(update_fields=["guardian", "guardian_relationship", "version", "updated_at"])
    audit_record(
        actor=actor,
        action="resident.guardian_set",
        target=ward,
        object_repr=_repr(ward),
        before=before,
        after={"guardian": ward.guardian_id},
    )
    return ward


# --- consents ---------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    actor,
    resident: Resident,
    purpose: str,
    given_on: date,
    given_by_name: str = "",
    given_by_guardian: bool = False,
) -> Consent:
    """Record a consent: what for, when, by whom. For a child under 14 (on the day it is
    given) the consent must come from the guardian, who must be recorded first."""
    resident = Resident.objects.select_related("community", "guardian").get(pk=resident.pk)
    _check(actor, "casework.add_consent", resident.community)
    errors: dict[str, list[str]] = {}
    if purpose not in ConsentPurpose.values:
        errors["purpose"] = [_("Choose what is consented to.")]
    if given_on is None:
        errors["given_on"] = [_("Give the date of the consent.")]
    else:
        try:
            check_not_future(given_on, "given_on")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if given_on < resident.birth_date:
        raise ValidationError({"given_on": _("The resident was not born yet on that date.")})
    if resident.age_on(given_on) < CONSENT_GUARDIAN_AGE:
        if resident.guardian_id is None:
            raise ValidationError(
                {
                    "given_by_guardian": _(
                        "A child under 14 consents through their guardian: record the "
                        "guardian first."
                    )
                }
            )
        if not given_by_guardian:
            raise ValidationError(
                {"given_by_guardian": _("A child under 14 consents through their guardian.")}
            )
        given_by_name = (given_by_name or "").strip() or resident.guardian.name
    elif given_by_guardian and resident.guardian_id is None:
        raise ValidationError(
            {"given_by_guardian": _("No guardian is recorded for this resident.")}
        )
    if not (given_by_name or "").strip():
        given_by_name = resident.guardian.name if given_by_guardian else resident.name
    consent = Consent.objects.create(
        resident=resident,
        purpose=purpose,
        given_on=given_on,
        given_by_guardian=bool(given_by_guardian),
        given_by_name=given_by_name.strip()[:100],
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action="consent.record",
        target=consent,
        object_repr=f"consent #{consent.pk} of {_repr(resident)}",
        after={
            "resident": resident.pk,
            "purpose": purpose,
            "given_on": given_on.isoformat(),
            "given_by_guardian": bool(given_by_guardian),
        },
    )
    return consent


@transaction.atomic
def consent_withdraw(*, actor, consent: Consent, withdrawn_on: date | None = None) -> Consent:
    """Withdraw a consent from a date (the row stays, with its dates)."""
    consent = (
        Consent.objects.select_for_update().select_related("resident__community").get(pk=consent.pk)
    )
    _check(actor, "casework.change_consent", consent.resident.community)
    withdrawn_on = withdrawn_on or timezone.localdate()
    if consent.withdrawn_on is not None:
        raise ValidationError({"withdrawn_on": _("This consent was already withdrawn.")})
    check_not_future(withdrawn_on, "withdrawn_on")
    if withdrawn_on < consent.given_on:
        raise ValidationError(
            {"withdrawn_on": _("A consent cannot be withdrawn before it was given.")}
        )
    consent.withdrawn_on = withdrawn_on
    consent.save(update_fields=["withdrawn_on"])
    audit_record(
        actor=actor,
        action="consent.withdraw",
        target=consent,
        object_repr=f"consent #{consent.pk} of resident #{consent.resident_id}",
        after={"withdrawn_on": withdrawn_on.isoformat()},
    )
    return consent


# --- special-group statuses ---------------------------------------------------------------


def certificate_expected(national_id: str, category: int, grade: int) -> str:
    """The disability certificate number: the 18-character ID, the category digit and the
    grade digit."""
    return f"{national_id.upper()}{category}{grade}"


def _check_age(resident: Resident, group: str, started_on: date) -> None:
    rule = special_group_ages().get(str(group))
    if not rule:
        return
    age = resident.age_on(started_on)
    label = SpecialGroup(group).label
    if "under" in rule and age >= int(rule["under"]):
        raise ValidationError(
            {
                "group": _("%(group)s: the person must be under %(age)d on the start date.")
                % {"group": label, "age": int(rule["under"])}
            }
        )
    if "at_least" in rule and age < int(rule["at_least"]):
        raise ValidationError(
            {
                "group": _("%(group)s: the person must be at least %(age)d on the start date.")
                % {"group": label, "age": int(rule["at_least"])}
            }
        )


@transaction.atomic
def status_add(
    *,
    actor,
    resident: Resident,
    group: str,
    started_on: date,
    review_on: date | None = None,
    ended_on: date | None = None,
    evidence: str = "",
    disability_category: int | None = None,
    disability_grade: int | None = None,
    certificate_number: str = "",
) -> SpecialStatus:
    """Record a resident's membership of a special group from ``started_on``. A disability
    needs category (1–7), grade (1–4) and the certificate number (ID + category + grade);
    children's and elders' groups check the configured ages; the same group cannot be held
    twice in overlapping periods (several different groups at once are fine)."""
    resident = Resident.objects.select_for_update().select_related("community").get(pk=resident.pk)
    _check(actor, "casework.add_specialstatus", resident.community)
    errors: dict[str, list[str]] = {}
    if group not in SpecialGroup.values:
        errors["group"] = [_("Choose a special group.")]
    if started_on is None:
        errors["started_on"] = [_("Give the start date.")]
    else:
        try:
            check_not_future(started_on, "started_on")
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if ended_on is not None and ended_on < started_on:
            errors["ended_on"] = [_("The end cannot be before the start.")]
        if review_on is not None and review_on < started_on:
            errors["review_on"] = [_("The review cannot be before the start.")]
    if ended_on is not None and "ended_on" not in errors:
        try:
            check_not_future(ended_on, "ended_on")
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if started_on < resident.birth_date:
        raise ValidationError({"started_on": _("The resident was not born yet on that date.")})
    certificate_number = (certificate_number or "").strip().upper()
    if group == SpecialGroup.DISABILITY:
        if disability_category not in DisabilityCategory.values:
            errors["disability_category"] = [_("Choose the disability category (1–7).")]
        if disability_grade not in (1, 2, 3, 4):
            errors["disability_grade"] = [_("Choose the disability grade (1–4).")]
        if not certificate_number:
            errors["certificate_number"] = [_("Give the disability certificate number.")]
        if errors:
            raise ValidationError(errors)
        expected = certificate_expected(resident.national_id, disability_category, disability_grade)
        if certificate_number != expected:
            raise ValidationError(
                {
                    "certificate_number": _(
                        "The certificate number must be the resident's national ID followed by "
                        "the category digit and the grade digit (20 characters)."
                    )
                }
            )
    elif disability_category or disability_grade or certificate_number:
        raise ValidationError(
            {
                "disability_category": _(
                    "Disability category, grade and certificate belong to a disability status only."
                )
            }
        )
    _check_age(resident, group, started_on)
    overlapping = SpecialStatus.objects.filter(resident=resident, group=group).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=started_on)
    )
    if ended_on is not None:
        overlapping = overlapping.filter(started_on__lte=ended_on)
    if overlapping.exists():
        raise ValidationError(
            {"group": _("The resident already has this status in an overlapping period.")}
        )
    status = SpecialStatus.objects.create(
        resident=resident,
        group=group,
        started_on=started_on,
        review_on=review_on,
        ended_on=ended_on,
        evidence=(evidence or "").strip()[:300],
        disability_category=disability_category if group == SpecialGroup.DISABILITY else None,
        disability_grade=disability_grade if group == SpecialGroup.DISABILITY else None,
        certificate_number=certificate_number,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action="special_status.add",
        target=status,
        object_repr=f"status #{status.pk} of {_repr(resident)}",
        after={
            "resident": resident.pk,
            "group": group,
            "started_on": started_on.isoformat(),
            "ended_on": ended_on.isoformat() if ended_on else None,
            "disability_category": status.disability_category,
            "disability_grade": status.disability_grade,
        },
    )
    return status


@transaction.atomic
def status_end(*, actor, status: SpecialStatus, ended_on: date | None = None) -> SpecialStatus:
    """End a special-group status on ``ended_on`` (not before its start, not in the
    future). The row stays as history."""
    status = (
        SpecialStatus.objects.select_for_update()
        .select_related("resident__community")
        .get(pk=status.pk)
    )
    _check(actor, "casework.change_specialstatus", status.resident.community)
    ended_on = ended_on or timezone.localdate()
    if status.ended_on is not None:
        raise ValidationError({"ended_on": _("This status has already ended.")})
    if ended_on < status.started_on:
        raise ValidationError({"ended_on": _("The end cannot be before the start.")})
    check_not_future(ended_on, "ended_on")
    status.ended_on = ended_on
    status.save(update_fields=["ended_on"])
    audit_record(
        actor=actor,
        action="special_status.end",
        target=status,
        object_repr=f"status #{status.pk} of resident #{status.resident_id}",
        after={"ended_on": ended_on.isoformat()},
    )
    return status
