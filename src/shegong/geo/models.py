"""Administrative divisions: the statistical division hierarchy and its code changes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from shegong.core.scoping import RestrictedQuerySet


class Level(models.TextChoices):
    """Levels of the statistical division code, by the length of the significant code."""

    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")
    TOWN = "town", _("Town")
    COMMUNITY = "community", _("Community")


CODE_LENGTHS: dict[str, int] = {
    Level.PROVINCE: 2,
    Level.PREFECTURE: 4,
    Level.COUNTY: 6,
    Level.TOWN: 9,
    Level.COMMUNITY: 12,
}
LEVEL_BY_LENGTH: dict[int, str] = {length: level for level, length in CODE_LENGTHS.items()}
LEVEL_ORDER: list[str] = list(CODE_LENGTHS)
PARENT_LENGTH: dict[int, int] = {4: 2, 6: 4, 9: 6, 12: 9}


class Kind(models.TextChoices):
    """What kind of town or community a division is."""

    SUBDISTRICT = "subdistrict", _("Subdistrict")
    TOWN = "town", _("Town")
    TOWNSHIP = "township", _("Township")
    OTHER_TOWN = "other_town", _("Other town-level unit")
    URBAN = "urban", _("Urban community")
    RURAL = "rural", _("Rural community")


TOWN_KINDS = (Kind.SUBDISTRICT, Kind.TOWN, Kind.TOWNSHIP, Kind.OTHER_TOWN)
COMMUNITY_KINDS = (Kind.URBAN, Kind.RURAL)


class DivisionQuerySet(RestrictedQuerySet):
    """Divisions, scoped by code prefix."""

    def subtree(self, code: str) -> "DivisionQuerySet":
        """The division with ``code`` and all its descendants."""
        return self.filter(code__startswith=code)


class Division(models.Model):
    """One administrative division (province, prefecture, county, town or community).

    ``code`` is the significant part of the 12-digit statistical code: 2 digits for a
    province, 4 for a prefecture, 6 for a county, 9 for a town and 12 for a community. The
    code *is* the hierarchy: the parent's code is a prefix, and a subtree is every code that
    starts with its own, so no parent key is stored (the import checks every parent exists).
    A code change keeps the row (and everything attached to it) and records a
    ``DivisionChange``.
    """

    code = models.CharField(_("code"), max_length=12)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, blank=True)
    urban_rural_class = models.CharField(_("urban-rural class code"), max_length=3, blank=True)
    is_grouping = models.BooleanField(
        _("statistical grouping"),
        default=False,
        help_text=_("A prefecture-level grouping such as 市辖区 or 县 under a municipality."),
    )
    population = models.PositiveIntegerField(
        _("resident population"),
        null=True,
        blank=True,
        help_text=_("Where known (census or yearbook); used for workers per 10,000 residents."),
    )

    objects = DivisionQuerySet.as_manager()
    scope_path = "code"

    class Meta:
        ordering = ["code"]
        verbose_name = _("division")
        verbose_name_plural = _("divisions")
        # Subtree queries are "code LIKE 'prefix%'". On PostgreSQL the code column uses the
        # "C" collation (migration 0002) so the unique index serves them, and comparisons
        # are byte-wise: codes are digits, so nothing is lost. The uniqueness is a named
        # constraint rather than ``unique=True``, which would add a second, redundant
        # ``varchar_pattern_ops`` index that every import has to maintain (migration 0004).
        constraints = [models.UniqueConstraint(fields=["code"], name="geo_division_code_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def full_code(self) -> str:
        """The 12-digit statistical code."""
        return self.code.ljust(12, "0")

    @property
    def parent_code(self) -> str | None:
        """The parent's code, read off this division's own code."""
        length = PARENT_LENGTH.get(len(self.code))
        return self.code[:length] if length else None

    @property
    def child_level(self) -> str | None:
        """The level just below this one."""
        index = LEVEL_ORDER.index(self.level)
        return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None

    def ancestor_codes(self) -> list[str]:
        """Codes of the ancestors, from the province down (by code prefix)."""
        return [self.code[:length] for length in CODE_LENGTHS.values() if length < len(self.code)]


class DivisionChange(models.Model):
    """A rename or code change of a division, kept so its history survives."""

    class ChangeKind(models.TextChoices):
        RENAME = "rename", _("Rename")
        RECODE = "recode", _("Code change")

    division = models.ForeignKey(
        Division, verbose_name=_("division"), on_delete=models.CASCADE, related_name="changes"
    )
    change_kind = models.CharField(_("change"), max_length=8, choices=ChangeKind.choices)
    old_code = models.CharField(_("old code"), max_length=12, db_index=True)
    new_code = models.CharField(_("new code"), max_length=12)
    old_name = models.CharField(_("old name"), max_length=100)
    new_name = models.CharField(_("new name"), max_length=100)
    effective_on = models.DateField(_("effective on"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["-effective_on", "-id"]
        verbose_name = _("division change")
        verbose_name_plural = _("division changes")

    def __str__(self) -> str:
        return f"{self.old_name} {self.old_code} → {self.new_name} {self.new_code}"


class PovertyKind(models.TextChoices):
    POOR_COUNTY = "poor_county", _("Poor county")
    DEEP_POVERTY_TOWN = "deep_poverty_town", _("Deep-poverty town")


class PovertyDesignation(models.Model):
    """A division designated a poor county or a deep-poverty town (F27), from a date and
    possibly until one; kept as data the city edits, history included."""

    division = models.ForeignKey(
        Division,
        verbose_name=_("division"),
        on_delete=models.PROTECT,
        related_name="poverty_designations",
    )
    kind = models.CharField(_("designation"), max_length=20, choices=PovertyKind.choices)
    designated_on = models.DateField(_("designated on"))
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)
    document = models.CharField(_("document"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_path = "division__code"

    class Meta:
        ordering = ["kind", "division__code"]
        verbose_name = _("poverty designation")
        verbose_name_plural = _("poverty designations")
        constraints = [
            models.UniqueConstraint(
                fields=["division", "kind"],
                condition=models.Q(lifted_on__isnull=True),
                name="geo_one_open_designation",
            ),
            models.CheckConstraint(
                condition=models.Q(lifted_on__isnull=True)
                | models.Q(lifted_on__gt=models.F("designated_on")),
                name="geo_designation_dates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.division.name} {self.get_kind_display()}"
