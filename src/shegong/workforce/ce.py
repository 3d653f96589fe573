"""The continuing-education rule (继续教育), per 3-year registration period.

- Required: 72 hours for an assistant social worker, 90 for a social worker or a senior
  social worker (the person's current qualification), per registration period.
- Hours count in the period in which they were completed (a course that straddles two
  periods counts in the second).
- A completed social work degree counts 90 hours, once: in the first registration period
  that had not ended when the degree was completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shegong.workforce.models import (
    ContinuingEducation,
    QualificationLevel,
    RegistrationPeriod,
    RegistrationStatus,
    SocialWorker,
)

DEGREE_CREDIT = Decimal(90)
REQUIRED_HOURS = {
    QualificationLevel.ASSISTANT: Decimal(72),
    QualificationLevel.SOCIAL_WORKER: Decimal(90),
    QualificationLevel.SENIOR: Decimal(90),
}


@dataclass(frozen=True)
class PeriodStanding:
    """A registration period with the hours required, earned and still missing."""

    period_id: int
    starts_on: date
    ends_on: date
    required: Decimal
    earned: Decimal
    degree_credit: Decimal

    @property
    def total(self) -> Decimal:
        return self.earned + self.degree_credit

    @property
    def short_by(self) -> Decimal:
        return max(Decimal(0), self.required - self.total)

    @property
    def complete(self) -> bool:
        return self.short_by == 0

    def days_left(self, today: date) -> int:
        return max(0, (self.ends_on - today).days)


def ce_standing(worker: SocialWorker) -> list[PeriodStanding]:
    """Every registration period of ``worker`` with its continuing-education standing."""
    required = REQUIRED_HOURS.get(worker.qualification_level, Decimal(0))
    periods = list(
        RegistrationPeriod.objects.filter(worker=worker)
        .exclude(status=RegistrationStatus.CANCELLED)
        .order_by("starts_on")
    )
    credits = list(
        ContinuingEducation.objects.filter(worker=worker).values_list("completed_on", "hours")
    )
    degree_dates = sorted(
        worker.education.filter(social_work_major=True).values_list("graduated_on", flat=True)
    )
    degree_period = None
    if degree_dates:
        first_degree = degree_dates[0]
        degree_period = next((p.pk for p in periods if p.ends_on >= first_degree), None)
    standings = []
    for period in periods:
        earned = sum(
            (hours for done, hours in credits if period.starts_on <= done <= period.ends_on),
            Decimal(0),
        )
        standings.append(
            PeriodStanding(
                period_id=period.pk,
                starts_on=period.starts_on,
                ends_on=period.ends_on,
                required=required,
                earned=earned,
                degree_credit=DEGREE_CREDIT if period.pk == degree_period else Decimal(0),
            )
        )
    return standings


def ce_current(worker: SocialWorker, today: date) -> PeriodStanding | None:
    """The standing of the period that contains ``today`` (None if not registered)."""
    return next((s for s in ce_standing(worker) if s.starts_on <= today <= s.ends_on), None)
