"""Reads for referrals: the inbox of each side and the overdue ones. Every read starts
from ``Referral.objects.restrict`` (both sides see a referral)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q, QuerySet
from django.utils import timezone

from shegong.accounts.models import User
from shegong.casework.models import Referral, ReferralStatus
from shegong.core.scoping import VIEW

BOXES = ("received", "sent")


def _scoped(user: User) -> QuerySet[Referral]:
    return Referral.objects.restrict(user, VIEW).select_related(
        "resident", "from_facility__division", "to_facility__division", "case"
    )


def overdue_q(today: date) -> Q:
    """A referral is overdue while it awaits an answer past its due date."""
    return Q(status=ReferralStatus.PENDING, due_on__lt=today)


def referral_inbox(
    user: User,
    box: str = "received",
    status: str = "",
    overdue: bool = False,
    today: date | None = None,
) -> QuerySet[Referral]:
    """Referrals received by the user's area (to a facility in it) or sent from it."""
    today = today or timezone.localdate()
    prefix = user.scope_prefix or "\x00"
    referrals = _scoped(user)
    if box == "sent":
        referrals = referrals.filter(from_facility__division__code__startswith=prefix)
    else:
        referrals = referrals.filter(to_facility__division__code__startswith=prefix)
    if status in ReferralStatus.values:
        referrals = referrals.filter(status=status)
    if overdue:
        referrals = referrals.filter(overdue_q(today))
    return referrals.order_by("-sent_on", "-id")


def overdue_referrals(user: User, today: date | None = None) -> QuerySet[Referral]:
    """Overdue referrals on both sides: sent from the user's area or sent to it."""
    today = today or timezone.localdate()
    return _scoped(user).filter(overdue_q(today)).order_by("due_on", "id")


def is_overdue(referral: Referral, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return referral.status == ReferralStatus.PENDING and referral.due_on < today
