"""Writes for divisions: code changes (renames come with imports, see ``geo.io``)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from shegong.core.audit import audit_record
from shegong.geo.models import CODE_LENGTHS, LEVEL_ORDER, Division, DivisionChange


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
