"""Writes for referrals between rooms, stations, centres and outside agencies: sending
(with the resident's referral consent on record), the receiving side's answer, and the
outcome.

The sender is a facility in the actor's scope; the receiver is any working facility of the
network in the same city, or an outside agency named in words. Only the receiving side
— a user whose area covers the receiving facility — answers; an outside agency's answer is
recorded by the sending side. Errors: ``ValidationError`` (bad input, nothing written),
``PermissionDenied`` (not your side), ``Http404`` (outside your scope). Audit rows name
the referral and the resident by row id only.
"""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.casework.models import (
    Case,
    Consent,
    ConsentPurpose,
    Referral,
    ReferralStatus,
    Resident,
)
from shegong.core.audit import audit_record
from shegong.core.scoping import VIEW
from shegong.network.models import Facility, FacilityStatus


def _in_area(user, division_code: str) -> bool:
    prefix = user.scope_prefix
    return bool(prefix) and division_code.startswith(prefix)


def has_referral_consent(resident: Resident, on: date | None = None) -> bool:
    """Whether the resident has an unwithdrawn consent to be referred (given by ``on``)."""
    consents = Consent.objects.filter(
        resident=resident, purpose=ConsentPurpose.REFERRAL, withdrawn_on__isnull=True
    )
    if on is not None:
        consents = consents.filter(given_on__lte=on)
    return consents.exists()


def _repr(referral: Referral) -> str:
    return f"referral #{referral.pk}"


@transaction.atomic
def referral_send(
    *,
    actor,
    resident: Resident,
    from_facility: Facility,
    reason: str,
    consent_checked: bool,
    due_on: date | None,
    to_facility: Facility | None = None,
    to_agency: str = "",
    sent_on: date | None = None,
    case: Case | None = None,
) -> Referral:
    """Refer a resident from a facility in the actor's scope to another facility of the
    network or to an outside agency."""
    if actor is not None:
        if not actor.has_perm("casework.add_referral"):
            raise PermissionDenied(_("Your role may not send referrals."))
        if not Resident.objects.restrict(actor, VIEW).filter(pk=resident.pk).exists():
            raise Http404
        if not Facility.objects.restrict(actor, VIEW).filter(pk=from_facility.pk).exists():
            raise Http404
        if case is not None and not Case.objects.restrict(actor, VIEW).filter(pk=case.pk).exists():
            raise Http404
    from_facility = Facility.objects.select_related("division").get(pk=from_facility.pk)
    errors: dict[str, list[str]] = {}
    to_agency = (to_agency or "").strip()[:200]
    if to_facility is not None and to_agency:
        errors["to_agency"] = [_("Refer either to a facility of the network or to an agency.")]
    elif to_facility is None and not to_agency:
        errors["to_facility"] = [
            _("Choose the facility the resident is referred to, or name the outside agency.")
        ]
    elif to_facility is not None:
        to_facility = Facility.objects.select_related("division").get(pk=to_facility.pk)
        if to_facility.pk == from_facility.pk:
            errors["to_facility"] = [_("A facility cannot refer a resident to itself.")]
        elif to_facility.status == FacilityStatus.CLOSED:
            errors["to_facility"] = [_("This facility is closed; choose one that is working.")]
        elif to_facility.division.code[:2] != from_facility.division.code[:2]:
            errors["to_facility"] = [_("Referrals go to facilities in the same city.")]
    if from_facility.status == FacilityStatus.CLOSED:
        errors["from_facility"] = [_("This facility is closed; choose one that is working.")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Give the reason for the referral.")]
    today = timezone.localdate()
    sent_on = sent_on or today
    if sent_on > today:
        errors["sent_on"] = [_("The date cannot be in the future.")]
    if due_on is None:
        errors["due_on"] = [_("Give the date by which an answer is due.")]
    elif due_on < sent_on:
        errors["due_on"] = [_("The answer cannot be due before the referral is sent.")]
    if not consent_checked:
        errors["consent_checked"] = [
            _("Confirm that the resident (or their guardian) consented to the referral.")
        ]
    elif not has_referral_consent(resident, sent_on):
        errors["consent_checked"] = [
            _(
                "The resident has no consent to referral on record (or it was withdrawn); "
                "record the consent first."
            )
        ]
    if case is not None:
        if case.resident_id != resident.pk:
            errors["case"] = [_("The case belongs to another resident.")]
        elif not case.is_open:
            errors["case"] = [_("This case is closed.")]
    if errors:
        raise ValidationError(errors)
    referral = Referral.objects.create(
        resident=resident,
        case=case,
        from_facility=from_facility,
        to_facility=to_facility,
        to_agency=to_agency if to_facility is None else "",
        reason=reason[:500],
        consent_checked=True,
        sent_on=sent_on,
        due_on=due_on,
        sent_by=actor if getattr(actor, "pk", None) else None,
    )
    audit_record(
        actor=actor,
        action="referral.send",
        target=referral,
        object_repr=_repr(referral),
        after={
            "resident_id": resident.pk,
            "case_id": case.pk if case else None,
            "from_facility_id": from_facility.pk,
            "to_facility_id": to_facility.pk if to_facility else None,
            "to_agency": referral.to_agency,
            "sent_on": sent_on.isoformat(),
            "due_on": due_on.isoformat(),
        },
    )
    return referral


def is_receiver(user, referral: Referral) -> bool:
    """Whether ``user`` is on the receiving side: their area covers the receiving
    facility (for an outside agency, the sending side records its answer)."""
    if referral.to_facility_id is None:
        return _in_area(user, referral.from_facility.division.code)
    return _in_area(user, referral.to_facility.division.code)


def may_answer(user, referral: Referral) -> bool:
    return (
        user.has_perm("casework.change_referral")
        and referral.status == ReferralStatus.PENDING
        and is_receiver(user, referral)
        and (referral.to_facility_id is None or user.pk != referral.sent_by_id)
    )


def may_complete(user, referral: Referral) -> bool:
    return (
        user.has_perm("casework.change_referral")
        and referral.status == ReferralStatus.ACCEPTED
        and (is_receiver(user, referral) or _in_area(user, referral.from_facility.division.code))
    )


def _lock(actor, referral: Referral) -> Referral:
    if actor is not None:
        if not Referral.objects.restrict(actor, VIEW).filter(pk=referral.pk).exists():
            raise Http404
        if not actor.has_perm("casework.change_referral"):
            raise PermissionDenied(_("Your role may not answer referrals."))
    Referral.objects.select_for_update().filter(pk=referral.pk).first()
    return Referral.objects.select_related("from_facility__division", "to_facility__division").get(
        pk=referral.pk
    )


@transaction.atomic
def referral_answer(
    *, actor, referral: Referral, accept: bool, note: str = "", answered_on: date | None = None
) -> Referral:
    """The receiving side accepts or declines a pending referral (declining needs a
    note). The sender cannot answer their own referral."""
    referral = _lock(actor, referral)
    if actor is not None:
        if not is_receiver(actor, referral):
            raise PermissionDenied(_("Only the receiving side answers a referral."))
        if referral.to_facility_id is not None and actor.pk == referral.sent_by_id:
            raise PermissionDenied(_("You cannot answer a referral you sent yourself."))
    if referral.status != ReferralStatus.PENDING:
        raise ValidationError(
            {
                "status": _("This referral has already been answered (%(status)s).")
                % {"status": ReferralStatus(referral.status).label}
            }
        )
    note = (note or "").strip()
    if not accept and not note:
        raise ValidationError({"note": _("Say why the referral is declined.")})
    answered_on = answered_on or timezone.localdate()
    if answered_on > timezone.localdate():
        raise ValidationError({"answered_on": _("The date cannot be in the future.")})
    if answered_on < referral.sent_on:
        raise ValidationError(
            {"answered_on": _("A referral cannot be answered before it was sent.")}
        )
    referral.status = ReferralStatus.ACCEPTED if accept else ReferralStatus.DECLINED
    referral.answered_on = answered_on
    referral.answer_note = note[:300]
    referral.save(update_fields=["status", "answered_on", "answer_note"])
    audit_record(
        actor=actor,
        action="referral.answer",
        target=referral,
        object_repr=_repr(referral),
        before={"status": ReferralStatus.PENDING},
        after={"status": referral.status, "answered_on": answered_on.isoformat()},
    )
    return referral


@transaction.atomic
def referral_complete(*, actor, referral: Referral, outcome: str) -> Referral:
    """Record the outcome of an accepted referral (either side)."""
    referral = _lock(actor, referral)
    if actor is not None and not (
        is_receiver(actor, referral) or _in_area(actor, referral.from_facility.division.code)
    ):
        raise PermissionDenied(_("Only the two sides of a referral record its outcome."))
    if referral.status != ReferralStatus.ACCEPTED:
        raise ValidationError({"outcome": _("Only an accepted referral has an outcome to record.")})
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError({"outcome": _("Describe the outcome of the referral.")})
    referral.status = ReferralStatus.COMPLETED
    referral.outcome = outcome[:500]
    referral.save(update_fields=["status", "outcome"])
    audit_record(
        actor=actor,
        action="referral.complete",
        target=referral,
        object_repr=_repr(referral),
        before={"status": ReferralStatus.ACCEPTED},
        after={"status": ReferralStatus.COMPLETED},
    )
    return referral
