"""The funding ledger: fund sources, accounts, and append-only movements between them.
Amounts are exact (two-place Decimal yuan); a balance is the sum of movements; corrections
are reversing entries, never edits."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from shegong.core.models import AppendOnlyError
from shegong.core.scoping import RestrictedQuerySet


class SourceKind(models.TextChoices):
    """Where the money comes from (F21–F25)."""

    MUNICIPAL_PURCHASE = "municipal_purchase", _("Municipal purchase of services")
    AWARD_IN_LIEU = "award_in_lieu", _("Awards in lieu of subsidies")
    # xgettext:no-python-format
    ASSISTANCE_ONE_PERCENT = "assistance_1pct", _("1 % of social-assistance funds")
    COUNTY_MATCHING = "county_matching", _("County matching funds")
    DONATION = "donation", _("Donations and charitable funds")
    MARKET_FEE = "market_fee", _("Market fees")
    OTHER = "other", _("Other")


class OwnerLevel(models.TextChoices):
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWN = "town", _("Town")


class FundSource(models.Model):
    """A source of money for a year, owned by the city, a county or a town."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=SourceKind.choices)
    owner_level = models.CharField(_("owner"), max_length=8, choices=OwnerLevel.choices)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("owned by"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["-year", "kind", "name"]
        verbose_name = _("fund source")
        verbose_name_plural = _("fund sources")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "kind", "year", "name"], name="funding_source_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.year}"


class AccountKind(models.TextChoices):
    SOURCE = "source", _("Fund source")
    COUNTY = "county", _("County")
    FACILITY = "facility", _("Facility")
    PROJECT = "project", _("Project")
    PAYEE = "payee", _("Payee")


class Account(models.Model):
    """Where money sits: a source's budget, a county's or a facility's allocation, a
    project, or a payee (an agency, a person rewarded). Its balance is the sum of the
    movements into it minus those out of it."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=AccountKind.choices)
    division = models.ForeignKey(
        "geo.Division", verbose_name=_("division"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(
        FundSource, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    facility = models.ForeignKey(
        "network.Facility", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="accounts",
    )
    organisation = models.ForeignKey(
        "network.SocialOrganisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["kind", "name", "id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.name


class MovementKind(models.TextChoices):
    APPROPRIATION = "appropriation", _("Appropriation")
    ALLOCATION = "allocation", _("Allocation")
    DISBURSEMENT = "disbursement", _("Disbursement")
    REFUND = "refund", _("Refund")
    INCOME = "income", _("Income")
    REWARD = "reward", _("Reward payment")
    REVERSAL = "reversal", _("Reversal")


class MovementQuerySet(RestrictedQuerySet):
    """Movements can be read and appended, never updated or deleted by the application."""

    def update(self, **kwargs):
        raise AppendOnlyError("ledger movements are append-only")

    def delete(self):
        raise AppendOnlyError("ledger movements are append-only")


class Movement(models.Model):
    """Money moving into ``to_account`` (from ``from_account``, or from outside the ledger
    for an appropriation or income). Append-only: never updated or deleted (database
    triggers and the model refuse it); a mistake is corrected by a reversal."""

    kind = models.CharField(_("kind"), max_length=16, choices=MovementKind.choices)
    from_account = models.ForeignKey(
        Account,
        verbose_name=_("from"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outgoing",
    )
    # Empty only for a reversal of an appropriation or income: the money leaves the ledger.
    to_account = models.ForeignKey(
        Account,
        verbose_name=_("to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incoming",
    )
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    occurred_on = models.DateField(_("date"))
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    milestone = models.ForeignKey(
        "projects.PaymentMilestone",
        verbose_name=_("payment milestone"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    award = models.ForeignKey(
        "workforce.Award",
        verbose_name=_("award"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = MovementQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_on", "id"]
        verbose_name = _("movement")
        verbose_name_plural = _("movements")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_movement_positive"),
            models.CheckConstraint(
                condition=~Q(from_account=F("to_account")), name="funding_movement_two_accounts"
            ),
            models.CheckConstraint(
                condition=Q(from_account__isnull=False) | Q(to_account__isnull=False),
                name="funding_movement_an_account",
            ),
        ]
        indexes = [
            models.Index(fields=["to_account", "occurred_on"], name="funding_movement_in"),
            models.Index(fields=["from_account", "occurred_on"], name="funding_movement_out"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("ledger movements are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("ledger movements are append-only")

    @classmethod
    def scope_q(cls, user) -> Q:
        """A movement is seen by whoever sees either of its accounts."""
        prefix = user.scope_prefix
        if not prefix:
            return Q(pk__in=[])
        return Q(to_account__division__code__startswith=prefix) | Q(
            from_account__division__code__startswith=prefix
        )


class AssistanceSpending(models.Model):
    """A county's social-assistance spending in a year: 1 % of it must go to grassroots
    assistance-handling capacity (the 1 % rule)."""

    division = models.ForeignKey(
        "geo.Division", verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    amount = models.DecimalField(
        _("social-assistance spending (yuan)"), max_digits=16, decimal_places=2
    )

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["-year", "division__code"]
        verbose_name = _("social-assistance spending")
        verbose_name_plural = _("social-assistance spending")
        constraints = [
            models.UniqueConstraint(fields=["division", "year"], name="funding_spending_once"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="funding_spending_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.division_id} {self.year}: {self.amount}"
