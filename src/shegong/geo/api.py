"""API for divisions: list with filters, detail, children."""

from datetime import date

from django.http import Http404
from ninja import Field, FilterSchema, Query, Router, Schema, Status
from ninja.pagination import paginate

from shegong.core.api import InputSchema, Pagination, require
from shegong.core.inputs import Code, Count, Day, Id, Text
from shegong.core.scoping import CHANGE, get_scoped_or_404
from shegong.geo import services
from shegong.geo.models import Division, Kind, Level, PovertyDesignation, PovertyKind
from shegong.geo.selectors import (
    division_by_code,
    division_children,
    division_counts,
    division_history,
    division_in_scope_or_404,
    division_list,
    poverty_designation_list,
)

router = Router(tags=["divisions"])


class DivisionOut(Schema):
    """A division as the API shows it."""

    code: str
    full_code: str
    name: str
    level: str
    kind: str
    urban_rural_class: str
    parent_code: str | None


class DivisionChangeOut(Schema):
    change_kind: str
    old_code: str
    new_code: str
    old_name: str
    new_name: str
    effective_on: date


class DivisionDetailOut(DivisionOut):
    """A division with counts of what lies below it and its history."""

    counts: dict[str, int]
    history: list[DivisionChangeOut]


class DivisionFilter(FilterSchema):
    level: Level | None = None
    kind: Kind | None = None
    parent: Code | None = None
    name: Text | None = None
    code: Code | None = None


class PovertyDesignationOut(Schema):
    id: int
    division_code: str = Field(..., alias="division.code")
    division_name: str = Field(..., alias="division.name")
    kind: PovertyKind
    designated_on: date
    lifted_on: date | None
    document: str


class PovertyDesignationIn(InputSchema):
    division_code: Code
    kind: PovertyKind
    designated_on: Day
    document: Text = ""


class LiftIn(InputSchema):
    lifted_on: Day


class PovertyQuery(InputSchema):
    kind: PovertyKind | None = None
    open_on: Day | None = None
    division: Code | None = None


class PopulationIn(InputSchema):
    population: Count | None


class PopulationOut(Schema):
    code: str
    name: str
    population: int | None


# Declared before "/divisions/{code}" so that its path does not swallow these.
@router.get(
    "/divisions/poverty-designations",
    response=list[PovertyDesignationOut],
    summary="Poor counties and deep-poverty towns in scope (history included)",
)
@paginate(Pagination)
def list_poverty_designations(request, params: Query[PovertyQuery]):
    user = request.auth
    require(user, "geo.view_povertydesignation")
    return poverty_designation_list(
        user=user,
        kind=params.kind,
        open_on=params.open_on,
        division=division_in_scope_or_404(user=user, code=params.division)
        if params.division
        else None,
    )


@router.post(
    "/divisions/poverty-designations",
    response={201: PovertyDesignationOut},
    summary="Designate a poor county or deep-poverty town",
)
def create_poverty_designation(request, payload: PovertyDesignationIn):
    user = request.auth
    require(user, "geo.add_povertydesignation")
    designation = services.poverty_designate(
        actor=user,
        division=division_in_scope_or_404(user=user, code=payload.division_code),
        kind=payload.kind,
        designated_on=payload.designated_on,
        document=payload.document,
    )
    return Status(201, designation)


@router.post(
    "/divisions/poverty-designations/{designation_id}/lift",
    response=PovertyDesignationOut,
    summary="Lift a designation",
)
def lift_poverty_designation(request, designation_id: Id, payload: LiftIn):
    designation = get_scoped_or_404(
        PovertyDesignation.objects.select_related("division"),
        request.auth,
        CHANGE,
        pk=designation_id,
    )
    return services.poverty_lift(
        actor=request.auth, designation=designation, lifted_on=payload.lifted_on
    )


@router.post(
    "/divisions/{code}/population",
    response=PopulationOut,
    summary="Set (or clear) a division's resident population",
)
def set_division_population(request, code: Code, payload: PopulationIn):
    require(request.auth, "geo.change_division")
    division = division_in_scope_or_404(user=request.auth, code=code)
    return services.division_set_population(
        actor=request.auth, division=division, population=payload.population
    )


def _get(request, code: str) -> Division:
    division = division_by_code(user=request.auth, code=code)
    if division is None:
        raise Http404
    return division


@router.get("/divisions", response=list[DivisionOut], summary="List divisions in scope")
@paginate(Pagination)
def list_divisions(request, filters: Query[DivisionFilter]):
    return division_list(user=request.auth, **filters.model_dump())


@router.get("/divisions/{code}", response=DivisionDetailOut, summary="One division")
def get_division(request, code: Code):
    division = _get(request, code)
    division.counts = division_counts(division=division)
    division.history = list(division_history(division=division))
    return division


@router.get(
    "/divisions/{code}/children", response=list[DivisionOut], summary="Children of a division"
)
@paginate(Pagination)
def list_children(request, code: Code):
    return division_children(user=request.auth, division=_get(request, code))
