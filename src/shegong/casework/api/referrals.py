"""API: referrals (issue #6) — the inbox of each side (box, status, overdue), sending, one
referral, the receiving side's answer and the outcome. Every answer names a resident and
is ``Cache-Control: no-store``; reading one referral writes an access-log row."""

from datetime import date

from django.http import Http404, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.pagination import paginate

from shegong.casework import privacy
from shegong.casework.models import Case, Referral, ReferralStatus, Resident
from shegong.casework.selectors import referrals as selectors
from shegong.casework.services import referrals as services
from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import Day, Id, LongText, Text, Word
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.network.models import Facility

router = Router(tags=["casework"])


class ReferralOut(Schema):
    id: int
    resident_id: int
    resident_name: str
    case_id: int | None
    from_facility_id: int
    to_facility_id: int | None
    to_agency: str
    reason: str
    consent_checked: bool
    sent_on: date
    due_on: date
    status: ReferralStatus
    answered_on: date | None
    answer_note: str
    outcome: str
    overdue: bool

    @staticmethod
    def resolve_resident_name(obj: Referral) -> str:
        return obj.resident.name

    @staticmethod
    def resolve_overdue(obj: Referral) -> bool:
        return selectors.is_overdue(obj)


class ReferralIn(InputSchema):
    resident_id: Id
    from_facility_id: Id
    to_facility_id: Id | None = None
    to_agency: Text = ""
    case_id: Id | None = None
    reason: LongText
    consent_checked: bool
    due_on: Day
    sent_on: Day | None = None


class AnswerIn(InputSchema):
    accept: bool
    note: LongText = ""
    answered_on: Day | None = None


class ReferralCompleteIn(InputSchema):
    outcome: LongText


def _referral(user, referral_id: int) -> Referral:
    require(user, "casework.view_referral")
    return get_scoped_or_404(
        Referral.objects.select_related(
            "resident", "from_facility__division", "to_facility__division"
        ),
        user,
        VIEW,
        pk=referral_id,
    )


@router.get("/referrals", response=list[ReferralOut], summary="Referrals received or sent")
@paginate(Pagination)
def list_referrals(
    request,
    response: HttpResponse,
    box: Word = "received",
    status: Word = "",
    overdue: bool = False,
):
    user = request.auth
    require(user, "casework.view_referral")
    privacy.no_store(response)
    return selectors.referral_inbox(
        user,
        box=box if box in selectors.BOXES else "received",
        status=status,
        overdue=overdue,
        today=timezone.localdate(),
    )


@router.post("/referrals", response={201: ReferralOut}, summary="Send a referral")
def create_referral(request, payload: ReferralIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.add_referral")
    resident = get_scoped_or_404(Resident, user, VIEW, pk=payload.resident_id)
    from_facility = get_scoped_or_404(Facility, user, VIEW, pk=payload.from_facility_id)
    to_facility = None
    if payload.to_facility_id is not None:
        # the receiver may be anywhere in the city: not limited to the sender's scope
        to_facility = Facility.objects.filter(pk=payload.to_facility_id).first()
        if to_facility is None:
            raise Http404
    case = (
        get_scoped_or_404(Case, user, VIEW, pk=payload.case_id)
        if payload.case_id is not None
        else None
    )
    referral = services.referral_send(
        actor=user,
        resident=resident,
        from_facility=from_facility,
        to_facility=to_facility,
        to_agency=payload.to_agency,
        case=case,
        reason=payload.reason,
        consent_checked=payload.consent_checked,
        due_on=payload.due_on,
        sent_on=payload.sent_on,
    )
    privacy.no_store(response)
    return Status(201, referral)


@router.get("/referrals/{int:referral_id}", response=ReferralOut, summary="One referral")
def get_referral(request, referral_id: Id, response: HttpResponse):
    user = request.auth
    referral = _referral(user, referral_id)
    privacy.log_access(user, "referral_view", referral.resident, detail={"referral": referral.pk})
    privacy.no_store(response)
    return referral


@router.post(
    "/referrals/{int:referral_id}/answer", response=ReferralOut, summary="Accept or decline"
)
def answer_referral(request, referral_id: Id, payload: AnswerIn, response: HttpResponse):
    user = request.auth
    require(user, "casework.change_referral")
    referral = _referral(user, referral_id)
    referral = services.referral_answer(
        actor=user,
        referral=referral,
        accept=payload.accept,
        note=payload.note,
        answered_on=payload.answered_on,
    )
    privacy.no_store(response)
    return referral


@router.post(
    "/referrals/{int:referral_id}/complete", response=ReferralOut, summary="Record the outcome"
)
def complete_referral(
    request, referral_id: Id, payload: ReferralCompleteIn, response: HttpResponse
):
    user = request.auth
    require(user, "casework.change_referral")
    referral = _referral(user, referral_id)
    referral = services.referral_complete(actor=user, referral=referral, outcome=payload.outcome)
    privacy.no_store(response)
    return referral
