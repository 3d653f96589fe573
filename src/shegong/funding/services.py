"""Writes of the funding ledger: fund sources, accounts, and movements between accounts.

Every movement service locks the account the money leaves (``select_for_update``; several
accounts are locked in primary-key order), computes its balance (sum in − sum out) and
refuses the movement if it would overdraw, all in one transaction, so two concurrent
requests cannot both spend the same yuan. Movements are append-only; a mistake is corrected
by ``reverse`` (a reversing entry), never by an edit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.audit import audit_record
from shegong.core.permissions import MissingPermission
from shegong.core.validators import check_not_future, clean_amount
from shegong.funding.models import (
    Account,
    AccountKind,
    AssistanceSpending,
    FundSource,
    Movement,
    MovementKind,
    OwnerLevel,
    SourceKind,
)
from shegong.geo.models import Division, Level

# Stages from which a project may be paid: the contract is signed.
PAYABLE_STAGES = frozenset(
    {"contract", "in_progress", "midterm_evaluation", "final_evaluation", "closed"}
)

# Which account kinds an allocation may leave and reach.
ALLOCATE_FROM = frozenset({AccountKind.SOURCE, AccountKind.COUNTY, AccountKind.FACILITY})
ALLOCATE_TO = frozenset({AccountKind.COUNTY, AccountKind.FACILITY, AccountKind.PROJECT})

OWNER_LEVELS = {
    OwnerLevel.CITY: {Level.PROVINCE, Level.PREFECTURE},
    OwnerLevel.COUNTY: {Level.COUNTY},
    OwnerLevel.TOWN: {Level.TOWN},
}


def _check(actor, perm: str, division: Division) -> None:
    """The actor's role must have ``perm`` and ``division`` must be in their scope (else
    404, as if it did not exist). ``actor=None`` is the system (imports, demo data)."""
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise MissingPermission(perm)
    prefix = actor.scope_prefix
    if not prefix or not division.code.startswith(prefix):
        raise Http404


def parse_amount(value, field: str = "amount") -> Decimal:
    """An amount of yuan moved: more than zero, whole fen (``core.validators.clean_amount``)."""
    return clean_amount(value, field, positive=True)


def _check_date(day: date, field: str = "occurred_on") -> None:
    if not isinstance(day, date):
        raise ValidationError({field: _("Give a date.")})
    check_not_future(day, field)


# --- Sources and accounts ---------------------------------------------------------------------


@transaction.atomic
def fund_source_create(
    *, actor, name: str, kind: str, owner_level: str, division: Division, year: int
) -> FundSource:
    """Create a fund source for a year and its source account (where its budget sits)."""
    _check(actor, "funding.add_fundsource", division)
    if kind not in SourceKind.values:
        raise ValidationError({"kind": _("Unknown kind of fund source.")})
    if owner_level not in OwnerLevel.values:
        raise ValidationError({"owner_level": _("The owner is the city, a county or a town.")})
    if division.level not in OWNER_LEVELS[owner_level]:
        raise ValidationError(
            {"division": _("The division does not match the owner level of the source.")}
        )
    if not name.strip():
        raise ValidationError({"name": _("Name the fund source.")})
    if not 2000 <= int(year) <= timezone.localdate().year + 1:
        raise ValidationError({"year": _("Give a year between 2000 and next year.")})
    if FundSource.objects.filter(division=division, kind=kind, year=year, name=name.strip()):
        raise ValidationError({"name": _("This fund source is already recorded for the year.")})
    source = FundSource.objects.create(
        name=name.strip()[:200], kind=kind, owner_level=owner_level, division=division, year=year
    )
    account = Account.objects.create(
        name=source.name, kind=AccountKind.SOURCE, division=division, source=source
    )
    audit_record(
        actor=actor,
        action="fund_source.create",
        target=source,
        after={"kind": kind, "owner_level": owner_level, "year": year, "account": account.pk},
    )
    return source


def source_account(source: FundSource) -> Account:
    """The account holding a fund source's budget."""
    return source.accounts.get(kind=AccountKind.SOURCE)


@transaction.atomic
def account_create(
    *,
    actor,
    kind: str,
    name: str = "",
    division: Division | None = None,
    source: FundSource | None = None,
    facility=None,
    project=None,
    organisation=None,
) -> Account:
    """Open a county, facility, project or payee account (a source's account comes with the
    source). ``source`` optionally earmarks the account for one fund source, so its money
    is counted under that source's kind. A facility account sits in the facility's
    division, a project account in the project's area, a payee account (an agency) in
    ``division`` or else where the agency is registered."""
    if kind == AccountKind.SOURCE:
        raise ValidationError({"kind": _("A source account is opened with its fund source.")})
    if kind not in AccountKind.values:
        raise ValidationError({"kind": _("Unknown kind of account.")})
    if kind == AccountKind.COUNTY:
        if division is None or division.level != Level.COUNTY:
            raise ValidationError({"division": _("A county account needs a county.")})
    elif kind == AccountKind.FACILITY:
        if facility is None:
            raise ValidationError({"facility": _("Choose the facility.")})
        division = facility.division
    elif kind == AccountKind.PROJECT:
        if project is None:
            raise ValidationError({"project": _("Choose the project.")})
        division = project.area
    elif kind == AccountKind.PAYEE:
        if organisation is None:
            raise ValidationError({"organisation": _("Choose the agency to be paid.")})
        division = division or organisation.division
    _check(actor, "funding.add_account", division)
    default_name = {
        AccountKind.COUNTY: division.name,
        AccountKind.FACILITY: getattr(facility, "name", ""),
        AccountKind.PROJECT: str(project) if project else "",
        AccountKind.PAYEE: getattr(organisation, "name", ""),
    }[kind]
    account = Account.objects.create(
        name=(name.strip() or default_name)[:200],
        kind=kind,
        division=division,
        source=source,
        facility=facility if kind == AccountKind.FACILITY else None,
        project=project if kind == AccountKind.PROJECT else None,
        organisation=organisation if kind == AccountKind.PAYEE else None,
    )
    audit_record(
        actor=actor,
        action="account.create",
        target=account,
        after={"kind": kind, "division": division.code, "source": source.pk if source else None},
    )
    return account


@transaction.atomic
def assistance_spending_record(
    *, actor, division: Division, year: int, amount
) -> AssistanceSpending:
    """Record (or correct) a county's social-assistance spending for a year: the base of the
    1 % rule."""
    _check(actor, "funding.add_assistancespending", division)
    if division.level != Level.COUNTY:
        raise ValidationError({"division": _("Social-assistance spending is per county.")})
    if not 2000 <= int(year) <= timezone.localdate().year:
        raise ValidationError({"year": _("Give a year between 2000 and this year.")})
    try:
        value = Decimal(str(amount).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"amount": _("Give the amount as a number.")}) from exc
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationError({"amount": _("The amount must be zero or more, in whole fen.")})
    if value >= Decimal(10) ** 14:
        raise ValidationError({"amount": _("The amount is too large.")})
    existing = (
        AssistanceSpending.objects.select_for_update().filter(division=division, year=year).first()
    )
    if existing is None:
        spending = AssistanceSpending.objects.create(division=division, year=year, amount=value)
        audit_record(
            actor=actor,
            action="assistance_spending.record",
            target=spending,
            after={"division": division.code, "year": year, "amount": str(value)},
        )
        return spending
    if actor is not None and not actor.has_perm("funding.change_assistancespending"):
        raise MissingPermission("funding.change_assistancespending")
    before = {"amount": str(existing.amount)}
    existing.amount = value
    existing.save(update_fields=["amount"])
    audit_record(
        actor=actor,
        action="assistance_spending.correct",
        target=existing,
        before=before,
        after={"amount": str(value)},
    )
    return existing


# --- Movements --------------------------------------------------------------------------------


def _lock(*accounts: Account | None) -> None:
    """Lock the accounts' rows, in primary-key order (so two requests locking the same
    accounts cannot deadlock)."""
    ids = sorted({a.pk for a in accounts if a is not None})
    if ids:
        list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def _balance(account: Account) -> Decimal:
    received = Movement.objects.filter(to_account=account).aggregate(s=Sum("amount"))["s"]
    spent = Movement.objects.filter(from_account=account).aggregate(s=Sum("amount"))["s"]
    return (received or Decimal(0)) - (spent or Decimal(0))


def _refuse_overdraw(account: Account, amount: Decimal) -> None:
    """Call with the account locked: refuse when its balance does not cover ``amount``."""
    balance = _balance(account)
    if balance < amount:
        raise ValidationError(
            {
                "amount": _(
                    "This would overdraw %(account)s: its balance is ¥%(balance)s, "
                    "the movement ¥%(amount)s."
                )
                % {"account": account.name, "balance": balance, "amount": amount}
            }
        )


def _record(
    *,
    actor,
    kind: str,
    from_account: Account | None,
    to_account: Account | None,
    amount: Decimal,
    occurred_on: date,
    memo: str = "",
    milestone=None,
    reverses: Movement | None = None,
    award=None,
) -> Movement:
    """Lock, check the balance, write the movement and its audit row (inside the caller's
    transaction)."""
    _lock(from_account, to_account)
    if from_account is not None:
        _refuse_overdraw(from_account, amount)
    movement = Movement(
        kind=kind,
        from_account=from_account,
        to_account=to_account,
        amount=amount,
        occurred_on=occurred_on,
        memo=memo.strip()[:300],
        milestone=milestone,
        reverses=reverses,
        award=award,
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    try:
        with transaction.atomic():
            movement.save(force_insert=True)
    except IntegrityError as exc:
        if reverses is not None:
            raise ValidationError(
                {"movement": _("This movement has already been reversed.")}
            ) from exc
        raise
    audit_record(
        actor=actor,
        action=f"movement.{kind}",
        target=movement,
        after={
            "kind": kind,
            "from": from_account.pk if from_account else None,
            "to": to_account.pk if to_account else None,
            "amount": str(amount),
            "occurred_on": str(occurred_on),
            "milestone": milestone.pk if milestone else None,
            "reverses": reverses.pk if reverses else None,
            "award": award.pk if award else None,
        },
    )
    return movement


def _common(actor, amount, occurred_on: date, account: Account) -> Decimal:
    _check(actor, "funding.add_movement", account.division)
    value = parse_amount(amount)
    _check_date(occurred_on)
    return value


@transaction.atomic
def appropriate(
    *, actor, source: FundSource, amount, occurred_on: date, memo: str = ""
) -> Movement:
    """Put a source's budget for its year into the source's account (from outside the
    ledger)."""
    account = source_account(source)
    value = _common(actor, amount, occurred_on, account)
    if occurred_on.year != source.year:
        raise ValidationError(
            {"occurred_on": _("A source's budget is appropriated in its own year.")}
        )
    return _record(
        actor=actor,
        kind=MovementKind.APPROPRIATION,
        from_account=None,
        to_account=account,
        amount=value,
        occurred_on=occurred_on,
        memo=memo,
    )


@transaction.atomic
def allocate(
    *,
    actor,
    from_account: Account,
    to_account: Account,
    amount,
    occurred_on: date,
    memo: str = "",
) -> Movement:
    """Allocate money from a source, county or facility account to a county, facility or
    project account."""
    value = _common(actor, amount, occurred_on, from_account)
    if from_account.kind not in ALLOCATE_FROM:
        raise ValidationError(
            {"from_account": _("Allocations come from a source, county or facility account.")}
        )
    if to_account.kind not in ALLOCATE_TO:
        raise ValidationError(
            {"to_account": _("Allocations go to a county, facility or project account.")}
        )
    if from_account.pk == to_account.pk:
        raise ValidationError({"to_account": _("Choose another account.")})
    return _record(
        actor=actor,
        kind=MovementKind.ALLOCATION,
        from_account=from_account,
        to_account=to_account,
        amount=value,
        occurred_on=occurred_on,
        memo=memo,
    )


def milestone_paid(milestone) -> Decimal:
    """What has been paid for a milestone: disbursements, less refunds and reversals (every
    movement naming the milestone runs between the project and the payee)."""
    out = Movement.objects.filter(milestone=milestone, from_account__kind=AccountKind.PROJECT)
    back = Movement.objects.filter(milestone=milestone, to_account__kind=AccountKind.PROJECT)
    paid = out.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    returned = back.aggregate(s=Sum("amount"))["s"] or Decimal(0)
    return paid - returned


@transaction.atomic
def disburse(
    *,
    actor,
    milestone,
    from_account: Account,
    to_account: Account,
    amount,
    occurred_on: date,
    memo: str = "",
) -> Movement:
    """Pay a payee from a project's account against one of the project's payment
    milestones; only once the contract is signed, and never more than the milestone."""
    from shegong.projects.models import PaymentMilestone, Project

    value = _common(actor, amount, occurred_on, from_account)
    if milestone is None:
        raise ValidationError(
            {"milestone": _("A disbursement without a contract: name the payment milestone.")}
        )
    if from_account.kind != AccountKind.PROJECT or from_account.project_id != milestone.project_id:
        raise ValidationError(
            {"from_account": _("A disbursement is paid from the milestone's project account.")}
        )
    if to_account.kind != AccountKind.PAYEE:
        raise ValidationError({"to_account": _("A disbursement is paid to a payee account.")})
    _lock(from_account, to_account)
    # the milestone (and the project's stage) are read under a lock, after the accounts
    milestone = PaymentMilestone.objects.select_for_update().get(pk=milestone.pk)
    project = Project.objects.get(pk=milestone.project_id)
    if project.stage not in PAYABLE_STAGES:
        raise ValidationError(
            {
                "milestone": _(
                    "A disbursement without a contract: project %(code)s is at the stage "
                    "“%(stage)s”; payments start once the contract is signed."
                )
                % {"code": project.code, "stage": project.get_stage_display()}
            }
        )
    if project.agency_id and to_account.organisation_id != project.agency_id:
        raise ValidationError(
            {"to_account": _("The payee must be the project's contracted agency.")}
        )
    paid = milestone_paid(milestone)
    if paid + value > milestone.amount:
        raise ValidationError(
            {
                "amount": _(
                    "This would overpay the milestone “%(name)s”: ¥%(amount)s, of which "
                    "¥%(paid)s is paid already."
                )
                % {"name": milestone.name, "amount": milestone.amount, "paid": paid}
            }
        )
    return _record(
        actor=actor,
        kind=MovementKind.DISBURSEMENT,
        from_account=from_account,
        to_account=to_account,
        amount=value,
        occurred_on=occurred_on,
        memo=memo,
        milestone=milestone,
    )


@transaction.atomic
def refund(*, actor, movement: Movement, amount, occurred_on: date, memo: str = "") -> Movement:
    """Return money back along a previous movement's path (to the account it came from).
    Along one path no more can come back than went out."""
    if movement.from_account_id is None or movement.to_account_id is None:
        raise ValidationError(
            {"movement": _("Only an allocation or a disbursement can be refunded.")}
        )
    if movement.kind not in (MovementKind.ALLOCATION, MovementKind.DISBURSEMENT):
        raise ValidationError(
            {"movement": _("Only an allocation or a disbursement can be refunded.")}
        )
    back_from, back_to = movement.to_account, movement.from_account
    value = _common(actor, amount, occurred_on, back_from)
    if occurred_on < movement.occurred_on:
        raise ValidationError({"occurred_on": _("A refund cannot precede the movement.")})
    _lock(back_from, back_to)
    path = Movement.objects.filter(kind__in=(MovementKind.ALLOCATION, MovementKind.DISBURSEMENT))
    went = path.filter(from_account=back_to, to_account=back_from).aggregate(s=Sum("amount"))
    came = Movement.objects.filter(
        kind=MovementKind.REFUND, from_account=back_from, to_account=back_to
    ).aggregate(s=Sum("amount"))
    # reversals along the path cancel what they reverse
    reversed_out = Movement.objects.filter(
        kind=MovementKind.REVERSAL,
        reverses__kind__in=(MovementKind.ALLOCATION, MovementKind.DISBURSEMENT),
        from_account=back_from,
        to_account=back_to,
    ).aggregate(s=Sum("amount"))
    reversed_back = Movement.objects.filter(
        kind=MovementKind.REVERSAL,
        reverses__kind=MovementKind.REFUND,
        from_account=back_to,
        to_account=back_from,
    ).aggregate(s=Sum("amount"))
    open_amount = (
        (went["s"] or 0) - (came["s"] or 0) - (reversed_out["s"] or 0) + (reversed_back["s"] or 0)
    )
    if value > open_amount:
        raise ValidationError(
            {
                "amount": _("At most ¥%(open)s can be refunded along this path.")
                % {"open": open_amount}
            }
        )
    return _record(
        actor=actor,
        kind=MovementKind.REFUND,
        from_account=back_from,
        to_account=back_to,
        amount=value,
        occurred_on=occurred_on,
        memo=memo or _("Refund of movement #%(id)s") % {"id": movement.pk},
        milestone=movement.milestone,
    )


@transaction.atomic
def income(*, actor, to_account: Account, amount, occurred_on: date, memo: str = "") -> Movement:
    """Money received into the ledger: a donation, market fees earned."""
    value = _common(actor, amount, occurred_on, to_account)
    return _record(
        actor=actor,
        kind=MovementKind.INCOME,
        from_account=None,
        to_account=to_account,
        amount=value,
        occurred_on=occurred_on,
        memo=memo,
    )


@transaction.atomic
def reward_pay(
    *, actor, award, from_account: Account, occurred_on: date, memo: str = ""
) -> Movement:
    """Pay an honour's reward (``workforce.Award``) to the person, out of the ledger from
    ``from_account``: the whole reward, once (unless the payment was reversed). Marks the
    award paid on that date."""
    from shegong.workforce.models import Award

    _check(actor, "funding.add_movement", from_account.division)
    _check_date(occurred_on)
    award = Award.objects.select_for_update().select_related("scheme").get(pk=award.pk)
    if award.reward_amount <= 0:
        raise ValidationError({"award": _("This award carries no reward to pay.")})
    if occurred_on.year < award.year:
        raise ValidationError({"occurred_on": _("A reward cannot be paid before its year.")})
    _lock(from_account)
    if Movement.objects.filter(
        award=award, kind=MovementKind.REWARD, reversed_by__isnull=True
    ).exists():
        raise ValidationError({"award": _("This reward has already been paid.")})
    movement = _record(
        actor=actor,
        kind=MovementKind.REWARD,
        from_account=from_account,
        to_account=None,
        amount=award.reward_amount,
        occurred_on=occurred_on,
        memo=memo or str(award.scheme),
        award=award,
    )
    if award.paid_on is None:
        award.paid_on = occurred_on
        award.save(update_fields=["paid_on"])
    return movement


@transaction.atomic
def reverse(*, actor, movement: Movement, occurred_on: date, memo: str = "") -> Movement:
    """A reversing entry: the same amount back from where it went to where it came from
    (out of the ledger for an appropriation or income). A movement is reversed once; a
    reversal is not reversed (record the movement again instead)."""
    movement = Movement.objects.select_related("from_account", "to_account").get(pk=movement.pk)
    # the account the money now leaves decides the scope (the receiving side's money)
    leaves = movement.to_account or movement.from_account
    _check(actor, "funding.add_movement", leaves.division)
    _check_date(occurred_on)
    if movement.kind == MovementKind.REVERSAL:
        raise ValidationError({"movement": _("A reversal cannot be reversed.")})
    if occurred_on < movement.occurred_on:
        raise ValidationError({"occurred_on": _("A reversal cannot precede the movement.")})
    _lock(movement.from_account, movement.to_account)
    if Movement.objects.filter(reverses=movement).exists():
        raise ValidationError({"movement": _("This movement has already been reversed.")})
    return _record(
        actor=actor,
        kind=MovementKind.REVERSAL,
        from_account=movement.to_account,
        to_account=movement.from_account,
        amount=movement.amount,
        occurred_on=occurred_on,
        memo=memo or _("Reversal of movement #%(id)s") % {"id": movement.pk},
        milestone=movement.milestone,
        reverses=movement,
        award=movement.award,
    )
