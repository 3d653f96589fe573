"""API for social workers, postings and staffing compliance."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import (
    Amount,
    Code,
    Count,
    Day,
    Hours,
    Id,
    LongText,
    Search,
    Text,
    Word,
    Year,
)
from shegong.core.jobs_api import JobOut
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.validators import mask_phone
from shegong.core.xlsx import XLSX_CONTENT_TYPE
from shegong.geo.models import Division
from shegong.geo.selectors import division_in_scope_or_404
from shegong.network.models import Facility
from shegong.workforce import models as wm
from shegong.workforce import selectors as talent
from shegong.workforce import services
from shegong.workforce.io import worker_template
from shegong.workforce.models import (
    Employment,
    Posting,
    QualificationLevel,
    SocialWorker,
    WorkplaceType,
)
from shegong.workforce.selectors import compliance, grassroots_professionals, social_worker_list
from shegong.workforce.tasks import worker_import_start

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
    name: Text
    national_id: Code
    division_code: Code
    qualification_level: QualificationLevel = QualificationLevel.NONE
    phone: Text = ""


POSTING_END = (
    "The first day the person no longer works there: the posting counts up to the day before "
    "(empty while it lasts)."
)


class PostingOut(Schema):
    id: int
    worker_id: int
    facility_id: int | None
    workplace_type: WorkplaceType
    workplace_name: str
    employment: Employment
    post_type: str
    started_on: date
    ended_on: date | None = Field(None, description=POSTING_END)


class PostingIn(InputSchema):
    worker_id: Id
    facility_id: Id | None = None
    workplace_type: WorkplaceType | None = None
    workplace_name: Text = ""
    employment: Employment
    started_on: Day
    ended_on: Day | None = Field(None, description=POSTING_END)
    post_type: Text = ""


class IdSearchIn(InputSchema):
    national_id: Code


class WorkforceEndIn(InputSchema):
    ended_on: Day = Field(
        ...,
        description="The first day the posting or dispatch no longer applies: it counts up "
        "to the day before.",
    )


@router.get("/social-workers", response=list[SocialWorkerOut], summary="Social workers in scope")
@paginate(Pagination)
def list_social_workers(request, q: Search = "", qualification: Word = ""):
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


@router.get(
    "/social-workers/{int:worker_id}", response=SocialWorkerOut, summary="One social worker"
)
def get_social_worker(request, worker_id: Id):
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
def list_postings(request, facility_id: Id | None = None, worker_id: Id | None = None):
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
def end_posting(request, posting_id: Id, payload: WorkforceEndIn):
    posting = get_scoped_or_404(Posting, request.auth, CHANGE, pk=posting_id)
    return services.posting_end(actor=request.auth, posting=posting, ended_on=payload.ended_on)


class ComplianceQuery(InputSchema):
    division: Code | None = None
    as_of: Day | None = None
    rows: bool = False


class ProfessionalsQuery(InputSchema):
    division: Code | None = None
    as_of: Day | None = None


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


# --- Bulk onboarding (issue #4 item 6): the import runs as a background job ----------------


@router.post(
    "/social-workers/import",
    response={202: JobOut},
    summary="Import social workers from .xlsx (a background job; follow it at /jobs/{id})",
)
def import_social_workers(request, file: File[UploadedFile] = None):
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.utils.translation import gettext as _

    from shegong.core.xlsx import MAX_UPLOAD_BYTES

    require(request.auth, "workforce.add_socialworker")
    if file is None:
        raise DjangoValidationError({"file": _("Choose an .xlsx file.")})
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        raise DjangoValidationError({"file": _("The file is larger than 20 MB.")})
    job = worker_import_start(actor=request.auth, filename=file.name or "", data=file.read())
    return Status(202, job)


@router.get("/social-workers/import/template", summary="The social-worker import sheet (.xlsx)")
def social_worker_import_template(request):
    require(request.auth, "workforce.add_socialworker")
    response = HttpResponse(worker_template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="social-workers.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


# --- Talent: training, honours, universities, dispatches (issue #4) -------------------------


class ProgrammeOut(Schema):
    id: int
    name: str
    first_year: int
    last_year: int
    target_per_year: int
    division_code: str = Field(..., alias="division.code")


class ProgrammeIn(InputSchema):
    name: Text
    division_code: Code
    first_year: Year
    last_year: Year
    target_per_year: Count = 0


class CourseOut(Schema):
    id: int
    programme_id: int | None
    title: str
    audience: wm.Audience
    organiser: str
    starts_on: date
    ends_on: date
    hours: Decimal
    external_headcount: int
    division_code: str = Field(..., alias="division.code")


class CourseIn(InputSchema):
    title: Text
    audience: wm.Audience
    organiser: Text
    starts_on: Day
    ends_on: Day
    hours: Hours
    division_code: Code
    programme_id: Id | None = None
    external_headcount: Count = 0


class HeadcountIn(InputSchema):
    external_headcount: Count


class EnrolmentOut(Schema):
    """An enrolment; the person appears by id and name only."""

    id: int
    course_id: int
    worker_id: int
    worker_name: str = Field(..., alias="worker.name")
    attended: bool
    certificate_number: str
    completed_on: date | None
    ce_credit_id: int | None


class EnrolmentIn(InputSchema):
    worker_id: Id


class AttendanceIn(InputSchema):
    attended: bool


class EnrolmentCompleteIn(InputSchema):
    completed_on: Day | None = None
    certificate_number: Text = ""


class CourseQuery(InputSchema):
    division: Code | None = None
    year: Year | None = None
    audience: wm.Audience | None = None
    programme_id: Id | None = None


class TrainingPersonTimesQuery(InputSchema):
    division: Code | None = None
    year_from: Year | None = None
    year_to: Year | None = None


@router.get(
    "/training/programmes", response=list[ProgrammeOut], summary="Training programmes in scope"
)
@paginate(Pagination)
def list_programmes(request):
    require(request.auth, "workforce.view_trainingprogramme")
    return talent.programme_list(user=request.auth)


@router.post(
    "/training/programmes", response={201: ProgrammeOut}, summary="Create a training programme"
)
def create_programme(request, payload: ProgrammeIn):
    user = request.auth
    require(user, "workforce.add_trainingprogramme")
    programme = services.training_programme_create(
        actor=user,
        name=payload.name,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        first_year=payload.first_year,
        last_year=payload.last_year,
        target_per_year=payload.target_per_year,
    )
    return Status(201, programme)


@router.get("/training/courses", response=list[CourseOut], summary="Courses in scope")
@paginate(Pagination)
def list_courses(request, params: Query[CourseQuery]):
    user = request.auth
    require(user, "workforce.view_course")
    return talent.course_list(
        user=user,
        division=division_in_scope_or_404(user=user, code=params.division)
        if params.division
        else None,
        year=params.year,
        audience=params.audience or "",
        programme_id=params.programme_id,
    )


@router.post("/training/courses", response={201: CourseOut}, summary="Create a course")
def create_course(request, payload: CourseIn):
    user = request.auth
    require(user, "workforce.add_course")
    course = services.course_create(
        actor=user,
        title=payload.title,
        audience=payload.audience,
        organiser=payload.organiser,
        starts_on=payload.starts_on,
        ends_on=payload.ends_on,
        hours=payload.hours,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        programme=get_scoped_or_404(wm.TrainingProgramme, user, VIEW, pk=payload.programme_id)
        if payload.programme_id
        else None,
        external_headcount=payload.external_headcount,
    )
    return Status(201, course)


@router.post(
    "/training/courses/{course_id}/headcount",
    response=CourseOut,
    summary="Record a course's external attendees",
)
def set_course_headcount(request, course_id: Id, payload: HeadcountIn):
    course = get_scoped_or_404(wm.Course, request.auth, CHANGE, pk=course_id)
    return services.course_set_headcount(
        actor=request.auth, course=course, external_headcount=payload.external_headcount
    )


@router.get(
    "/training/courses/{course_id}/enrolments",
    response=list[EnrolmentOut],
    summary="Who is enrolled on a course",
)
@paginate(Pagination)
def list_enrolments(request, course_id: Id):
    user = request.auth
    require(user, "workforce.view_enrolment")
    course = get_scoped_or_404(wm.Course, user, VIEW, pk=course_id)
    return talent.enrolment_list(user=user, course_id=course.pk)


@router.post(
    "/training/courses/{course_id}/enrolments",
    response={201: EnrolmentOut},
    summary="Enrol a social worker on a course",
)
def create_enrolment(request, course_id: Id, payload: EnrolmentIn):
    user = request.auth
    require(user, "workforce.add_enrolment")
    enrolment = services.enrolment_create(
        actor=user,
        course=get_scoped_or_404(wm.Course, user, VIEW, pk=course_id),
        worker=get_scoped_or_404(SocialWorker, user, VIEW, pk=payload.worker_id),
    )
    return Status(201, enrolment)


@router.post(
    "/training/enrolments/{enrolment_id}/attendance",
    response=EnrolmentOut,
    summary="Mark attendance",
)
def set_attendance(request, enrolment_id: Id, payload: AttendanceIn):
    enrolment = get_scoped_or_404(wm.Enrolment, request.auth, CHANGE, pk=enrolment_id)
    return services.enrolment_set_attendance(
        actor=request.auth, enrolment=enrolment, attended=payload.attended
    )


@router.post(
    "/training/enrolments/{enrolment_id}/complete",
    response=EnrolmentOut,
    summary="Record completion and credit the continuing-education hours",
)
def complete_enrolment(request, enrolment_id: Id, payload: EnrolmentCompleteIn):
    enrolment = get_scoped_or_404(wm.Enrolment, request.auth, CHANGE, pk=enrolment_id)
    return services.enrolment_complete(
        actor=request.auth,
        enrolment=enrolment,
        completed_on=payload.completed_on,
        certificate_number=payload.certificate_number,
    )


@router.get(
    "/training/person-times", summary="Person-times trained per year and audience (F12, F14)"
)
def get_person_times(request, params: Query[TrainingPersonTimesQuery]) -> dict:
    require(request.auth, "workforce.view_course")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    return talent.training_person_times(
        division=division, year_from=params.year_from, year_to=params.year_to
    )


class SchemeOut(Schema):
    id: int
    name: str
    level: wm.HonourLevel
    category: wm.HonourCategory
    reward_amount: Decimal
    division_code: str = Field(..., alias="division.code")


class SchemeIn(InputSchema):
    name: Text
    level: wm.HonourLevel
    category: wm.HonourCategory = wm.HonourCategory.OTHER
    division_code: Code
    reward_amount: Amount = Decimal(0)


class AwardOut(Schema):
    """An award; the person appears by id and name only."""

    id: int
    scheme_id: int
    scheme_name: str = Field(..., alias="scheme.name")
    worker_id: int
    worker_name: str = Field(..., alias="worker.name")
    year: int
    reward_amount: Decimal
    paid_on: date | None


class AwardIn(InputSchema):
    scheme_id: Id
    worker_id: Id
    year: Year
    reward_amount: Amount | None = None
    paid_on: Day | None = None


class HonoursQuery(InputSchema):
    division: Code | None = None
    year: Year | None = None


@router.get("/honours/schemes", response=list[SchemeOut], summary="Award schemes in scope")
@paginate(Pagination)
def list_award_schemes(request):
    require(request.auth, "workforce.view_awardscheme")
    return talent.award_scheme_list(user=request.auth)


@router.post("/honours/schemes", response={201: SchemeOut}, summary="Create an award scheme")
def create_award_scheme(request, payload: SchemeIn):
    user = request.auth
    require(user, "workforce.add_awardscheme")
    scheme = services.award_scheme_create(
        actor=user,
        name=payload.name,
        level=payload.level,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        reward_amount=payload.reward_amount,
    )
    return Status(201, scheme)


@router.get("/honours/awards", response=list[AwardOut], summary="Awards in scope")
@paginate(Pagination)
def list_awards(request, year: Year | None = None, scheme_id: Id | None = None):
    require(request.auth, "workforce.view_award")
    return talent.award_list(user=request.auth, year=year, scheme_id=scheme_id)


@router.post("/honours/awards", response={201: AwardOut}, summary="Honour a social worker")
def create_award(request, payload: AwardIn):
    user = request.auth
    require(user, "workforce.add_award")
    award = services.award_create(
        actor=user,
        scheme=get_scoped_or_404(wm.AwardScheme, user, VIEW, pk=payload.scheme_id),
        worker=get_scoped_or_404(SocialWorker, user, VIEW, pk=payload.worker_id),
        year=payload.year,
        reward_amount=payload.reward_amount,
        paid_on=payload.paid_on,
    )
    return Status(201, award)


@router.get("/honours/summary", summary="People honoured and rewards per scheme (F17–F20)")
def get_honours_summary(request, params: Query[HonoursQuery]) -> list:
    require(request.auth, "workforce.view_awardscheme")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    return talent.honours_summary(division=division, year=params.year)


class DegreeProgrammeOut(Schema):
    id: int
    level: wm.Degree
    name: str
    since_year: int | None


class DegreeProgrammeIn(InputSchema):
    level: wm.Degree
    name: Text
    since_year: Year | None = None


class BaseOut(Schema):
    id: int
    name: str
    funded_amount: Decimal
    first_year: int
    last_year: int


class BaseIn(InputSchema):
    name: Text
    funded_amount: Amount
    first_year: Year
    last_year: Year


class CohortOut(Schema):
    id: int
    year: int
    level: wm.Degree
    graduates: int


class CohortIn(InputSchema):
    year: Year
    level: wm.Degree
    graduates: Count


class UniversityOut(Schema):
    id: int
    name: str
    division_code: str = Field(..., alias="division.code")
    programmes: list[DegreeProgrammeOut]
    bases: list[BaseOut]
    cohorts: list[CohortOut]

    @staticmethod
    def resolve_programmes(obj) -> list:
        return list(obj.programmes.all())

    @staticmethod
    def resolve_bases(obj) -> list:
        return list(obj.bases.all())

    @staticmethod
    def resolve_cohorts(obj) -> list:
        return list(obj.cohorts.all())


class UniversityIn(InputSchema):
    name: Text
    division_code: Code


def _university(request, university_id: int, perm: str):
    require(request.auth, perm)
    return get_scoped_or_404(
        wm.University.objects.select_related("division"), request.auth, VIEW, pk=university_id
    )


@router.get("/universities", response=list[UniversityOut], summary="Universities in scope")
@paginate(Pagination)
def list_universities(request):
    require(request.auth, "workforce.view_university")
    return talent.university_list(user=request.auth)


@router.post("/universities", response={201: UniversityOut}, summary="Register a university")
def create_university(request, payload: UniversityIn):
    user = request.auth
    require(user, "workforce.add_university")
    university = services.university_create(
        actor=user,
        name=payload.name,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
    )
    return Status(201, university)


@router.post(
    "/universities/{university_id}/programmes",
    response={201: DegreeProgrammeOut},
    summary="Record a social work degree programme",
)
def add_degree_programme(request, university_id: Id, payload: DegreeProgrammeIn):
    university = _university(request, university_id, "workforce.add_degreeprogramme")
    programme = services.degree_programme_add(
        actor=request.auth,
        university=university,
        level=payload.level,
        name=payload.name,
        since_year=payload.since_year,
    )
    return Status(201, programme)


@router.post(
    "/universities/{university_id}/bases",
    response={201: BaseOut},
    summary="Record a municipal innovation base",
)
def add_innovation_base(request, university_id: Id, payload: BaseIn):
    university = _university(request, university_id, "workforce.add_innovationbase")
    base = services.innovation_base_add(
        actor=request.auth,
        university=university,
        name=payload.name,
        funded_amount=payload.funded_amount,
        first_year=payload.first_year,
        last_year=payload.last_year,
    )
    return Status(201, base)


@router.post(
    "/universities/{university_id}/cohorts",
    response=CohortOut,
    summary="Record (or correct) a year's graduates",
)
def record_graduate_cohort(request, university_id: Id, payload: CohortIn):
    university = _university(request, university_id, "workforce.add_graduatecohort")
    return services.graduate_cohort_record(
        actor=request.auth,
        university=university,
        year=payload.year,
        level=payload.level,
        graduates=payload.graduates,
    )


class DispatchOut(Schema):
    """A dispatch; the person appears by id and name only."""

    id: int
    worker_id: int
    worker_name: str = Field(..., alias="worker.name")
    home_facility_id: int | None
    host_division_code: str = Field(..., alias="host_division.code")
    host_division_name: str = Field(..., alias="host_division.name")
    host_facility_id: int | None
    starts_on: date
    ends_on: date | None
    purpose: str


class DispatchIn(InputSchema):
    worker_id: Id
    host_division_code: Code
    starts_on: Day
    purpose: LongText
    ends_on: Day | None = None
    home_facility_id: Id | None = None
    host_facility_id: Id | None = None


class DispatchQuery(InputSchema):
    year: Year | None = None
    active_on: Day | None = None
    worker_id: Id | None = None


class TalentQuery(InputSchema):
    division: Code | None = None
    year: Year | None = None
    as_of: Day | None = None


@router.get("/dispatches", response=list[DispatchOut], summary="Dispatches from or to the area")
@paginate(Pagination)
def list_dispatches(request, params: Query[DispatchQuery]):
    require(request.auth, "workforce.view_dispatch")
    return talent.dispatch_list(
        user=request.auth, year=params.year, active_on=params.active_on, worker_id=params.worker_id
    )


@router.post(
    "/dispatches",
    response={201: DispatchOut},
    summary="Send a social worker to a poor county or deep-poverty town",
)
def create_dispatch(request, payload: DispatchIn):
    user = request.auth
    require(user, "workforce.add_dispatch")
    worker = get_scoped_or_404(SocialWorker, user, VIEW, pk=payload.worker_id)
    home = (
        get_scoped_or_404(Facility, user, VIEW, pk=payload.home_facility_id)
        if payload.home_facility_id
        else None
    )
    # The host area may lie outside the sender's scope (a county sends its people to a poor
    # county elsewhere): division codes are public statistical data, so it is looked up as is.
    host = Division.objects.filter(code=payload.host_division_code).first()
    if host is None:
        raise Http404
    host_facility = None
    if payload.host_facility_id:
        host_facility = Facility.objects.filter(
            pk=payload.host_facility_id, division__code__startswith=host.code
        ).first()
        if host_facility is None:
            raise ValidationError(
                {"host_facility": [_("The host facility is not inside the host division.")]}
            )
    dispatch = services.dispatch_create(
        actor=user,
        worker=worker,
        host_division=host,
        starts_on=payload.starts_on,
        purpose=payload.purpose,
        ends_on=payload.ends_on,
        home_facility=home,
        host_facility=host_facility,
    )
    return Status(201, dispatch)


@router.post("/dispatches/{dispatch_id}/end", response=DispatchOut, summary="End a dispatch")
def end_dispatch(request, dispatch_id: Id, payload: WorkforceEndIn):
    dispatch = get_scoped_or_404(wm.Dispatch, request.auth, CHANGE, pk=dispatch_id)
    return services.dispatch_end(actor=request.auth, dispatch=dispatch, ended_on=payload.ended_on)


@router.get(
    "/talent/figures",
    summary="Talent figures F9–F14, F17–F20, F26–F27 and workers per 10,000 residents",
)
def get_talent_figures(request, params: Query[TalentQuery]) -> dict:
    require(request.auth, "workforce.view_course")
    division = division_in_scope_or_404(user=request.auth, code=params.division)
    return talent.talent_figures(division=division, year=params.year, as_of=params.as_of)
