"""API for divisions: list with filters, detail, children."""

from datetime import date

from django.http import Http404
from ninja import FilterSchema, Query, Router, Schema
from ninja.pagination import paginate

from shegong.core.api import Pagination
from shegong.geo.models import Division, Kind, Level
from shegong.geo.selectors import (
    division_by_code,
    division_children,
    division_counts,
    division_history,
    division_list,
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
    parent: str | None = None
    name: str | None = None
    code: str | None = None


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
def get_division(request, code: str):
    division = _get(request, code)
    division.counts = division_counts(division=division)
    division.history = list(division_history(division=division))
    return division


@router.get(
    "/divisions/{code}/children", response=list[DivisionOut], summary="Children of a division"
)
@paginate(Pagination)
def list_children(request, code: str):
    return division_children(user=request.auth, division=_get(request, code))
