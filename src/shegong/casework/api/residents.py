"""API: residents (issue #6) — list, search, one resident, registration, moving house,
special-group statuses, consents, break the glass.

What a caller sees is decided by ``casework.privacy``: ``national_id`` and ``phone`` come in
clear only for roles with ``casework.view_identity`` (else masked, and ``identity_masked``
is true); notes, disability category and grade only for them too. Reading one resident
writes one access-log row; a protected resident (a child under 14) the caller may not open
answers 403 with code ``protected`` (break the glass first). No name or ID travels in a URL:
the search is a POST.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from shegong.casework import privacy
from shegong.casework.models import (
    Consent,
    ConsentPurpose,
    Resident,
    SpecialGroup,
    SpecialStatus,
)
from shegong.casework.selectors.residents import (
    AGE_BANDS,
    RESIDENT_SORTS,
    current_statuses_q,
    resident_list,
)
from shegong.casework.services import residents as services
from shegong.core.api import ErrorOut, InputSchema, require
from shegong.core.inputs import (
    Code,
    Count,
    Day,
    Id,
    LongText,
    PageNumber,
    PageSize,
    Search,
    Text,
    Word,
)
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.validators import mask_national_id
from shegong.geo.models import Division, Level
from shegong.geo.selectors import division_in_scope_or_404

router = Router(tags=["casework"])

SEARCH_LIMIT = 50


# --- schemas ----------------------------------------------------------------------------------


class ResidentOut(Schema):
    """A resident as the caller may see them."""

    id: int
    name: str
    national_id: str = Field(description="In clear for roles that see identity, else masked.")
    phone: str = Field(description="In clear for roles that see identity, else masked.")
    identity_masked: bool
    sex: str
    age: int | None
    community_code: str
    community_name: str
    current_groups: list[SpecialGroup]
    anonymised: bool


class ResidentDetailOut(ResidentOut):
    registered_in_code: str | None
    household_id: int | None
    relationship: str
    guardian_id: int | None
    notes: str | None = Field(description="Only for roles that see identity; else null.")
    version: int


class ResidentPage(Schema):
    count: int
    page: int
    page_size: int
    results: list[ResidentOut]


class ResidentFilters(InputSchema):
    community: Code = ""
    group: SpecialGroup | None = None
    age_band: Word = Field("", description="under_14, under_18, adult or elder")
    sort: Word = Field("name", description="name, -name, community, -community or newest")
    page: PageNumber = Field(1, ge=1)
    page_size: PageSize = Field(50, ge=1, le=500)


class SearchIn(InputSchema):
    name: Search = ""
    national_id: Code = ""


class ResidentIn(InputSchema):
    name: Text
    national_id: Code
    community_code: Code
    phone: Text = ""
    registered_in_code: Code | None = None
    notes: LongText = ""
    moved_in_on: Day | None = None


class TransferIn(InputSchema):
    to_community_code: Code
    moved_on: Day | None = None
    reason: LongText = ""


class TransferOut(Schema):
    id: int
    community_code: str
    moved_on: date
    still_in_scope: bool


class StatusOut(Schema):
    id: int
    resident_id: int
    group: SpecialGroup
    started_on: date
    review_on: date | None
    ended_on: date | None
    evidence: str
    disability_category: int | None = Field(description="Null for roles without identity.")
    disability_grade: int | None = Field(description="Null for roles without identity.")
    certificate_number: str = Field(description="Masked for roles without identity.")


class ResidentStatusIn(InputSchema):
    group: SpecialGroup
    started_on: Day
    review_on: Day | None = None
    ended_on: Day | None = None
    evidence: LongText = ""
    disability_category: Count | None = None
    disability_grade: Count | None = None
    certificate_number: Text = ""


class ResidentStatusEndIn(InputSchema):
    ended_on: Day | None = None


class ConsentOut(Schema):
    id: int
    resident_id: int
    purpose: ConsentPurpose
    given_on: date
    given_by_guardian: bool
    given_by_name: str
    withdrawn_on: date | None


class ConsentIn(InputSchema):
    purpose: ConsentPurpose
    given_on: Day
    given_by_name: Text = ""
    given_by_guardian: bool = False


class ResidentBreakGlassIn(InputSchema):
    reason: LongText = ""
    minutes: Count = privacy.GRANT_MINUTES_DEFAULT


class ResidentGrantOut(Schema):
    resident_id: int
    expires_at: datetime


# --- shaping what a caller sees ----------------------------------------------------------------


def _may_open_row(user, resident: Resident, today: date) -> bool:
    if resident.anonymised_at is not None or not privacy.is_protected_child(resident, today):
        return True
    return privacy.may_open(user, resident)


def resident_out(
    user, resident: Resident, today: date | None = None, groups=None, *, listed: bool = False
) -> dict:
    """The fields of ``resident`` as ``user`` may see them; in a list (``listed``) the ID
    and phone are masked for every role (in clear only in one resident's answer)."""
    today = today or timezone.localdate()
    sees = privacy.sees_identity(user) and not listed
    anonymised = resident.anonymised_at is not None
    opens = _may_open_row(user, resident, today)
    if anonymised:
        national_id, phone = "", ""
    elif sees and opens:
        national_id = privacy.shown_national_id(user, resident)
        phone = privacy.shown_phone(user, resident)
    else:
        national_id, phone = resident.national_id_masked, resident.phone_masked
    if groups is None:
        groups = getattr(resident, "current_statuses", None)
        if groups is None:
            groups = resident.statuses.filter(current_statuses_q(today))
    return {
        "id": resident.pk,
        "name": resident.name,
        "national_id": national_id,
        "phone": phone,
        "identity_masked": not (sees and opens) or anonymised,
        "sex": "" if anonymised else resident.sex,
        "age": None if anonymised else resident.age_on(today),
        "community_code": resident.community.code,
        "community_name": resident.community.name,
        "current_groups": sorted({s.group for s in groups}),
        "anonymised": anonymised,
    }


def resident_detail_out(user, resident: Resident) -> dict:
    sees = privacy.sees_identity(user)
    return {
        **resident_out(user, resident),
        "registered_in_code": resident.registered_in.code if resident.registered_in_id else None,
        "household_id": resident.household_id,
        "relationship": resident.relationship,
        "guardian_id": resident.guardian_id,
        "notes": resident.notes if sees else None,
        "version": resident.version,
    }


def status_out(user, status: SpecialStatus) -> dict:
    sees = privacy.sees_identity(user)
    number = status.certificate_number or ""
    return {
        "id": status.pk,
        "resident_id": status.resident_id,
        "group": status.group,
        "started_on": status.started_on,
        "review_on": status.review_on,
        "ended_on": status.ended_on,
        "evidence": status.evidence,
        "disability_category": status.disability_category if sees else None,
        "disability_grade": status.disability_grade if sees else None,
        "certificate_number": number if sees or not number else mask_national_id(number),
    }


def _resident(request, resident_id: int, action: str = VIEW) -> Resident:
    """The resident if in scope (else 404); a role without the right at all gets 403."""
    require(request.auth, f"casework.{action}_resident")
    return get_scoped_or_404(
        Resident.objects.select_related("community", "registered_in"),
        request.auth,
        action,
        pk=resident_id,
    )


def _protected(user, resident: Resident):
    """None when ``user`` may open ``resident``; else the logged 403 answer."""
    if privacy.may_open(user, resident):
        return None
    privacy.log_access(user, "view", resident, allowed=False)
    return Status(
        403,
        {
            "detail": _("This record is protected: break the glass with a stated reason first."),
            "code": "protected",
            "errors": [],
        },
    )


# --- residents --------------------------------------------------------------------------------


@router.get("/residents", response=ResidentPage, summary="Residents in scope, filtered")
def list_residents(request, filters: Query[ResidentFilters], response: HttpResponse):
    """Paginated; no name search here (names do not travel in URLs: POST
    /residents/search)."""
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.view_resident")
    if filters.age_band and filters.age_band not in AGE_BANDS:
        raise ValidationError({"age_band": _("Unknown age band.")})
    if filters.sort not in RESIDENT_SORTS:
        raise ValidationError({"sort": _("Unknown sort order.")})
    today = timezone.localdate()
    qs = resident_list(
        user,
        community_code=filters.community,
        group=filters.group or "",
        age_band=filters.age_band,
        sort=filters.sort,
        today=today,
    )
    offset = (filters.page - 1) * filters.page_size
    rows = list(qs[offset : offset + filters.page_size])
    return {
        "count": qs.count(),
        "page": filters.page,
        "page_size": filters.page_size,
        "results": [resident_out(user, r, today, listed=True) for r in rows],
    }


@router.post(
    "/residents/search", response=list[ResidentOut], summary="Find residents by name or exact ID"
)
def search_residents(request, payload: SearchIn, response: HttpResponse):
    """By national ID (exact, through the keyed hash) or by name (contains; at most 50).
    Logged as one search (without what was searched)."""
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.view_resident")
    if payload.national_id.strip():
        found = services.resident_find_by_national_id(user=user, national_id=payload.national_id)
        results = [found] if found else []
        by = "national_id"
    elif payload.name.strip():
        results = list(resident_list(user, q=payload.name)[:SEARCH_LIMIT])
        by = "name"
    else:
        raise ValidationError({"name": _("Give a name or a national ID to search for.")})
    privacy.log_access(user, "search", None, detail={"by": by, "found": len(results)})
    today = timezone.localdate()
    return [resident_out(user, r, today, listed=True) for r in results]


@router.get(
    "/residents/{int:resident_id}",
    response={200: ResidentDetailOut, 403: ErrorOut},
    summary="One resident (access logged)",
)
def get_resident(request, resident_id: Id, response: HttpResponse):
    user = request.auth
    privacy.no_store(response)
    resident = _resident(request, resident_id)
    if (refused := _protected(user, resident)) is not None:
        return refused
    privacy.log_access(user, "view", resident)
    return resident_detail_out(user, resident)


@router.post("/residents", response={201: ResidentDetailOut}, summary="Register a resident")
def create_resident(request, payload: ResidentIn, response: HttpResponse):
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.add_resident")
    community = division_in_scope_or_404(user=user, code=payload.community_code)
    registered_in = None
    if payload.registered_in_code:
        registered_in = Division.objects.filter(code=payload.registered_in_code).first()
        if registered_in is None:
            raise ValidationError({"registered_in_code": _("No division has this code.")})
    resident = services.resident_create(
        actor=user,
        name=payload.name,
        national_id=payload.national_id,
        community=community,
        phone=payload.phone,
        registered_in=registered_in,
        notes=payload.notes,
        moved_in_on=payload.moved_in_on,
    )
    return Status(201, resident_detail_out(user, resident))


@router.post(
    "/residents/{int:resident_id}/transfer",
    response={200: TransferOut, 403: ErrorOut},
    summary="Move a resident to another community of the city",
)
def transfer_resident(request, resident_id: Id, payload: TransferIn, response: HttpResponse):
    user = request.auth
    privacy.no_store(response)
    resident = _resident(request, resident_id, CHANGE)
    if (refused := _protected(user, resident)) is not None:
        return refused
    target = Division.objects.filter(
        code=payload.to_community_code.strip(), level=Level.COMMUNITY
    ).first()
    if target is None:
        raise ValidationError({"to_community_code": _("No community has this code.")})
    moved = services.resident_transfer(
        actor=user,
        resident=resident,
        to_community=target,
        moved_on=payload.moved_on,
        reason=payload.reason,
    )
    return {
        "id": moved.pk,
        "community_code": target.code,
        "moved_on": payload.moved_on or timezone.localdate(),
        "still_in_scope": Resident.objects.restrict(user, VIEW).filter(pk=moved.pk).exists(),
    }


# --- statuses ---------------------------------------------------------------------------------


@router.get(
    "/residents/{int:resident_id}/statuses",
    response={200: list[StatusOut], 403: ErrorOut},
    summary="A resident's special-group statuses (history)",
)
def list_resident_statuses(request, resident_id: Id, response: HttpResponse):
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.view_specialstatus")
    resident = _resident(request, resident_id)
    if (refused := _protected(user, resident)) is not None:
        return refused
    privacy.log_access(user, "view", resident, detail={"part": "statuses"})
    return [status_out(user, s) for s in resident.statuses.all()]


@router.post(
    "/residents/{int:resident_id}/statuses",
    response={201: StatusOut, 403: ErrorOut},
    summary="Add a special-group status",
)
def add_resident_status(
    request, resident_id: Id, payload: ResidentStatusIn, response: HttpResponse
):
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.add_specialstatus")
    resident = _resident(request, resident_id)
    if (refused := _protected(user, resident)) is not None:
        return refused
    status = services.status_add(actor=user, resident=resident, **payload.model_dump())
    return Status(201, status_out(user, status))


@router.post(
    "/statuses/{int:status_id}/end",
    response={200: StatusOut, 403: ErrorOut},
    summary="End a special-group status",
)
def end_status(request, status_id: Id, payload: ResidentStatusEndIn, response: HttpResponse):
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.change_specialstatus")
    status = get_scoped_or_404(
        SpecialStatus.objects.select_related("resident__community"), user, VIEW, pk=status_id
    )
    if (refused := _protected(user, status.resident)) is not None:
        return refused
    return status_out(
        user, services.status_end(actor=user, status=status, ended_on=payload.ended_on)
    )


# --- consents ---------------------------------------------------------------------------------


@router.get(
    "/residents/{int:resident_id}/consents",
    response={200: list[ConsentOut], 403: ErrorOut},
    summary="A resident's consents",
)
def list_resident_consents(request, resident_id: Id, response: HttpResponse):
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.view_consent")
    resident = _resident(request, resident_id)
    if (refused := _protected(user, resident)) is not None:
        return refused
    privacy.log_access(user, "view", resident, detail={"part": "consents"})
    return list(Consent.objects.filter(resident=resident))


@router.post(
    "/residents/{int:resident_id}/consents",
    response={201: ConsentOut, 403: ErrorOut},
    summary="Record a consent",
)
def add_resident_consent(request, resident_id: Id, payload: ConsentIn, response: HttpResponse):
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.add_consent")
    resident = _resident(request, resident_id)
    if (refused := _protected(user, resident)) is not None:
        return refused
    consent = services.consent_record(actor=user, resident=resident, **payload.model_dump())
    return Status(201, consent)


# --- break the glass --------------------------------------------------------------------------


@router.post(
    "/residents/{int:resident_id}/break-glass",
    response={201: ResidentGrantOut},
    summary="Open a protected resident for a stated reason, for a limited time",
)
def break_glass_resident(
    request, resident_id: Id, payload: ResidentBreakGlassIn, response: HttpResponse
):
    """Refused (422, and the refusal logged) without a reason of at least 5 characters."""
    user = request.auth
    privacy.no_store(response)
    require(user, "casework.view_resident")
    resident = _resident(request, resident_id)
    if not privacy.is_protected(resident):
        raise ValidationError(_("This record is not protected: open it directly."))
    grant = privacy.access_grant_open(
        user=user, record=resident, reason=payload.reason, minutes=payload.minutes
    )
    return Status(201, {"resident_id": resident.pk, "expires_at": grant.expires_at})
