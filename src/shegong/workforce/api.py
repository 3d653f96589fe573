"""API for social workers, postings and staffing compliance."""

from datetime import date

from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate

from shegong.core.api import InputSchema, Pagination, require
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.validators import mask_phone
from shegong.geo.selectors import division_in_scope_or_404
from shegong.network.models import Facility
from shegong.workforce import services
from shegong.workforce.models import (
    Employment,
    Posting,
    QualificationLevel,
    SocialWorker,
    WorkplaceType,
)
from shegong.workforce.selectors import compliance, grassroots_professionals, social_worker_list

router = Router(tags=["workforce"])


class SocialWorkerOut(Schema):
    """A social worker; the national ID and phone are always masked in the API."""

    id: int
    name: str
    national_id_masked: str
    sex: str
    qualification_level: QualificationLevel
    phone_masked: str
    division_code: str

    @staticmethod
    def resolve_phone_masked(obj: SocialWorker) -> str:
        return mask_phone(obj.phone)

    @staticmethod
    def resolve_division_code(obj: SocialWorker) -> str:
        return obj.division.code


class SocialWorkerIn(InputSchema):
    name: str
    national_id: str
    division_code: str
    qualification_level: QualificationLevel = QualificationLevel.NONE
    phone: str = ""


class PostingOut(Schema):
    id: int
    worker_id: int
    facility_id: int | None
    workplace_type: WorkplaceType
    workplace_name: str
    employment: Employment
    post_type: str
    started_on: date
    ended_on: date | None


class PostingIn(InputSchema):
    worker_id: int
    facility_id: int | None = None
    workplace_type: WorkplaceType | None = None
    workplace_name: str = ""
    employment: Employment
    started_on: date
    ended_on: date | None = None
    post_type: str = ""


class IdSearchIn(InputSchema):
    national_id: str


class EndIn(InputSchema):
    ended_on: date


@router.get("/social-workers", response=list[SocialWorkerOut], summary="Social workers in scope")
@paginate(Pagination)
def list_social_workers(request, q: str = "", qualification: str = ""):
    require(request.auth, "workforce.view_socialworker")
    return social_worker_list(user=request.auth, query=q, qualification=qualification)


@router.post(
    "/social-workers/search", response=list[SocialWorkerOut], summary="Find by exact national ID"
)
def search_social_worker(request, payload: IdSearchIn):
    """The ID goes in the body, never in the URL; the match is through the keyed hash."""
    require(request.auth, "workforce.view_socialworker")
    worker = services.social_worker_find_by_national_id(
        user=request.auth, national_id=payload.national_id
    )
    return [worker] if worker else []


@router.get("/social-workers/{worker_id}", response=SocialWorkerOut, summary="One social worker")
def get_social_worker(request, worker_id: int):
    return get_scoped_or_404(
        SocialWorker.objects.select_related("division"), request.auth, VIEW, pk=worker_id
    )


@router.post("/social-workers", response={201: SocialWorkerOut}, summary="Register a social worker")
def create_social_worker(request, payload: SocialWorkerIn):
    user = request.auth
    require(user, "workforce.add_socialworker")
    worker = services.social_worker_create(
        actor=user,
        name=payload.name,
        national_id=payload.national_id,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        qualification_level=payload.qualification_level,
        phone=payload.phone,
    )
    return Status(201, worker)


@router.get("/postings", response=list[PostingOut], summary="Postings in scope")
@paginate(Pagination)
def list_postings(request, facility_id: int | None = None, worker_id: int | None = None):
    require(request.auth, "workforce.view_posting")
    qs = Posting.objects.restrict(request.auth, VIEW)
    if facility_id:
        qs = qs.filter(facility_id=facility_id)
    if worker_id:
        qs = qs.filter(worker_id=worker_id)
    return qs.order_by("-started_on", "id")


@router.post("/postings", response={201: PostingOut}, summary="Post a social worker")
def create_posting(request, payload: PostingIn):
    user = request.auth
    require(user, "workforce.add_posting")
    posting = services.posting_create(
        actor=user,
        worker=get_scoped_or_404(SocialWorker, user, VIEW, pk=payload.worker_id),
        facility=get_scoped_or_404(Facility, user, VIEW, pk=payload.facility_id)
        if payload.facility_id
        else None,
        workplace_type=payload.workplace_type,
        workplace_name=payload.workplace_name,
        employment=payload.employment,
        started_on=payload.started_on,
        ended_on=payload.ended_on,
        post_type=payload.post_type,
    )
    return Status(201, posting)


@router.post("/postings/{posting_id}/end", response=PostingOut, summary="End a posting")
def end_posting(request, posting_id: int, payload: EndIn):
    posting = get_scoped_or_404(Posting, request.auth, CHANGE, pk=posting_id)
    return services.posting_end(actor=request.auth, posting=posting, ended_on=payload.ended_on)


class ComplianceQuery(Schema):
    division: str | None = None
    as_of: date | None = None
    rows: bool = False


class ProfessionalsQuery(Schema):
    division: str | None = None
    as_of: date | None = None


@router.get("/professionals", summary="Social workers in post, and at the grassroots (F15, F16)")
def get_professionals(request, params: Query[ProfessionalsQuery]) -> dict:
    require(request.auth, "network.view_facility")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    return grassroots_professionals(division=division, as_of=params.as_of or timezone.localdate())


@router.get("/compliance", summary="Staffing compliance of a division's subtree on a date")
def get_compliance(request, params: Query[ComplianceQuery]) -> dict:
    require(request.auth, "network.view_facility")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    result = compliance(
        division=division, as_of=params.as_of or timezone.localdate(), keep_rows=params.rows
    )
    return result.as_dict(with_rows=params.rows)
