"""Writes for divisions: code changes (renames come with imports, see ``geo.io``)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.audit import audit_record
from shegong.core.permissions import MissingPermission
from shegong.geo.models import (
    CODE_LENGTHS,
    LEVEL_ORDER,
    Division,
    DivisionChange,
    Level,
    PovertyDesignation,
    PovertyKind,
)


def division_change_code(
    *,
    actor,
    division: Division,
    new_code: str,
    new_name: str | None = None,
    effective_on: date,
) -> Division:
    """Give a division a new code (and name), e.g. 梁平县 500228 → 梁平区 500155.

    The division keeps its row, so everything attached to it stays attached; its whole
    subtree is recoded with it; a ``DivisionChange`` is recorded for each recoded division
    so that old codes can still be resolved.
    """
    old_code = division.code
    new_name = (new_name or division.name).strip()
    if len(new_code) != len(old_code) or not new_code.isdigit():
        raise ValidationError(
            {"new_code": _("The new code must have %(n)d digits.") % {"n": len(old_code)}}
        )
    if new_code == old_code:
        raise ValidationError({"new_code": _("The new code is the same as the old one.")})
    if Division.objects.filter(code=new_code).exists():
        raise ValidationError({"new_code": _("Another division already has this code.")})
    level_index = LEVEL_ORDER.index(division.level)
    if level_index > 0:
        parent_code = new_code[: CODE_LENGTHS[LEVEL_ORDER[level_index - 1]]]
        if not Division.objects.filter(code=parent_code).exists():
            raise ValidationError(
                {"new_code": _("No division has the parent code %(code)s.") % {"code": parent_code}}
            )
    with transaction.atomic():
        subtree = list(
            Division.objects.select_for_update()
            .filter(code__startswith=old_code)
            .values_list("id", "code", "name")
        )
        Division.objects.filter(code__startswith=old_code).update(
            code=Concat(Value(new_code), Substr("code", len(old_code) + 1))
        )
        Division.objects.filter(pk=division.pk).update(name=new_name)
        DivisionChange.objects.bulk_create(
            DivisionChange(
                division_id=pk,
                change_kind=DivisionChange.ChangeKind.RECODE,
                old_code=code,
                new_code=new_code + code[len(old_code) :],
                old_name=name,
                new_name=new_name if pk == division.pk else name,
                effective_on=effective_on,
            )
            for pk, code, name in subtree
        )
        division.refresh_from_db()
        audit_record(
            actor=actor,
            action="division.change_code",
            target=division,
            before={"code": old_code, "name": subtree[0][2] if subtree else ""},
            after={"code": division.code, "name": division.name, "subtree": len(subtree)},
        )
    return division


def _check(actor, perm: str, division: Division) -> None:
    """Permission (403) and scope (404) of ``actor``; ``actor=None`` is the system."""
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise MissingPermission(perm)
    if not division.code.startswith(actor.scope_prefix):
        raise Http404


# A poor county is a county-level division, a deep-poverty town a town-level one.
_DESIGNATION_LEVEL = {
    PovertyKind.POOR_COUNTY: Level.COUNTY,
    PovertyKind.DEEP_POVERTY_TOWN: Level.TOWN,
}


@transaction.atomic
def poverty_designate(
    *, actor, division: Division, kind: str, designated_on: date, document: str = ""
) -> PovertyDesignation:
    """Designate a county a poor county or a town a deep-poverty town, from a date (one open
    designation per division and kind)."""
    _check(actor, "geo.add_povertydesignation", division)
    if kind not in PovertyKind.values:
        raise ValidationError({"kind": [_("Unknown designation.")]})
    if division.level != _DESIGNATION_LEVEL[kind]:
        raise ValidationError(
            {"division": [_("A poor county must be a county, a deep-poverty town a town.")]}
        )
    if designated_on > timezone.localdate():
        raise ValidationError({"designated_on": [_("The date cannot be in the future.")]})
    message = _("This division already has an open designation of this kind.")
    if PovertyDesignation.objects.filter(
        division=division, kind=kind, lifted_on__isnull=True
    ).exists():
        raise ValidationError({"division": [message]})
    if PovertyDesignation.objects.filter(
        division=division, kind=kind, lifted_on__gt=designated_on
    ).exists():
        raise ValidationError(
            {"designated_on": [_("An earlier designation of this division was still open then.")]}
        )
    try:
        with transaction.atomic():
            designation = PovertyDesignation.objects.create(
                division=division,
                kind=kind,
                designated_on=designated_on,
                document=(document or "").strip()[:200],
            )
    except IntegrityError as exc:
        raise ValidationError({"division": [message]}) from exc
    audit_record(
        actor=actor,
        action="poverty_designation.designate",
        target=designation,
        after={
            "division": division.code,
            "kind": kind,
            "designated_on": str(designated_on),
            "document": designation.document,
        },
    )
    return designation


@transaction.atomic
def poverty_lift(*, actor, designation: PovertyDesignation, lifted_on: date) -> PovertyDesignation:
    """Lift a designation from a date (the row is kept as history)."""
    designation = (
        PovertyDesignation.objects.select_for_update(of=("self",))
        .select_related("division")
        .get(pk=designation.pk)
    )
    _check(actor, "geo.change_povertydesignation", designation.division)
    if designation.lifted_on is not None:
        raise ValidationError({"lifted_on": [_("This designation has already been lifted.")]})
    if lifted_on <= designation.designated_on:
        raise ValidationError(
            {"lifted_on": [_("The designation must be lifted after it was made.")]}
        )
    if lifted_on > timezone.localdate():
        raise ValidationError({"lifted_on": [_("The date cannot be in the future.")]})
    designation.lifted_on = lifted_on
    designation.save(update_fields=["lifted_on"])
    audit_record(
        actor=actor,
        action="poverty_designation.lift",
        target=designation,
        after={"lifted_on": str(lifted_on)},
    )
    return designation


@transaction.atomic
def division_set_population(*, actor, division: Division, population: int | None) -> Division:
    """Set (or clear, with None) a division's resident population."""
    _check(actor, "geo.change_division", division)
    if population is not None and not 0 <= population <= 2_000_000_000:
        raise ValidationError({"population": [_("The population cannot be negative.")]})
    division = Division.objects.select_for_update().get(pk=division.pk)
    before = division.population
    division.population = population
    division.save(update_fields=["population"])
    audit_record(
        actor=actor,
        action="division.set_population",
        target=division,
        before={"population": before},
        after={"population": population},
    )
    return division
