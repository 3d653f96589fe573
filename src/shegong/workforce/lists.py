"""The workforce's declared lists (``core.lists``): the courses of the training page, the
people honoured, the universities and the dispatches, and the registry of social workers."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.contrib import messages
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from shegong.core.audit import audit_record
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.scoping import VIEW
from shegong.workforce.models import (
    Audience,
    Award,
    AwardScheme,
    Course,
    Dispatch,
    Enrolment,
    Posting,
    SocialWorker,
    University,
)
from shegong.workforce.selectors import (
    CE_COMPLETE,
    CE_NOT_REGISTERED,
    CE_SHORT,
    award_list,
    award_scheme_list,
    cached_figures,
    course_list,
    dispatch_list,
    qualification_rank,
    registry_list,
    university_list,
)


class CourseFilter(FilterSet):
    year = django_filters.NumberFilter(
        label=_("Year"), field_name="starts_on", lookup_expr="year", min_value=1949, max_value=2100
    )
    audience = django_filters.ChoiceFilter(
        label=_("Audience"), choices=Audience.choices, empty_label=_("Any audience")
    )

    class Meta:
        model = Course
        fields = []


COURSE_TABLE = Table(
    columns=(
        Col(
            "title",
            _("Title"),
            "title",
            sort="pinyin:title",
            link=lambda c: reverse("workforce:course", args=[c.pk]),
            title=True,
            wrap=True,
        ),
        Col("audience", _("Audience"), lambda c: c.get_audience_display(), sort="audience"),
        Col("start", _("Start"), "starts_on", sort="starts_on", kind="date"),
        Col("end", _("End"), "ends_on", sort="ends_on", kind="date"),
        Col("hours", _("Hours"), "hours", sort="hours", kind="num"),
        Col("attended", _("Attended (registered)"), "attended", sort="attended", kind="num"),
        Col(
            "external",
            _("External attendees"),
            "external_headcount",
            sort="external_headcount",
            kind="num",
        ),
        Col("organiser", _("Organiser"), "organiser", sort="pinyin:organiser", wrap=True),
        Col("programme", _("Programme"), "programme.name"),
    ),
    default_sort="-start",
    testid="courses",
)


def _courses(request):
    # a subquery, not a join and GROUP BY: only the page's rows are counted, and the
    # paginator's count reads the courses alone
    attended = (
        Enrolment.objects.filter(course=OuterRef("pk"), attended=True)
        .order_by()
        .values("course")
        .annotate(n=Count("id"))
        .values("n")
    )
    return course_list(user=request.user, division=request.user.division).annotate(
        attended=Coalesce(Subquery(attended, output_field=IntegerField()), Value(0))
    )


course_list_page = ListPage(
    title=_("Training"),
    table=COURSE_TABLE,
    queryset=_courses,
    filterset=CourseFilter,
    export_name="courses",
    template="workforce/training.html",
    empty_text=_("No course matches."),
    # the view puts the page's other parts (person-times, programmes, forms) on the request
    context=lambda request: request.training_context,
)


def year_choices(*extra: int) -> list[tuple[int, int]]:
    """The years a talent page offers: this year back to 2010, and any other year given."""
    this_year = timezone.localdate().year
    years = sorted({*range(this_year, 2009, -1), *(y for y in extra if y)}, reverse=True)
    return [(y, y) for y in years]


def _with_linkable_worker(rows, user):
    """Each row knows whether its person's page is open to the user (``worker_linkable``):
    people honoured or dispatched in the user's area may be registered outside it."""
    return rows.annotate(
        worker_linkable=Exists(
            SocialWorker.objects.restrict(user, VIEW).filter(pk=OuterRef("worker_id"))
        )
    )


def _worker_link(row) -> str:
    return reverse("workforce:worker", args=[row.worker_id]) if row.worker_linkable else ""


# The person honoured or dispatched, linked to their page where the user may open it.
WORKER_NAME = Col(
    "name",
    _("Name"),
    "worker.name",
    sort="pinyin:worker__name",
    link=_worker_link,
    title=True,
    kind="code",
)


# --- honours ------------------------------------------------------------------------------


def _award_schemes(request):
    """The filter offers the awards in scope and those the area's people received."""
    if request is None:
        return AwardScheme.objects.none()
    user = request.user
    return AwardScheme.objects.filter(
        Q(pk__in=award_scheme_list(user=user).values("pk"))
        | Q(pk__in=award_list(user=user).values("scheme_id"))
    ).order_by("level", "name")


class AwardFilter(FilterSet):
    year = django_filters.ChoiceFilter(
        label=_("Year"), choices=year_choices, empty_label=_("All years")
    )
    scheme = django_filters.ModelChoiceFilter(
        label=_("Award"), queryset=_award_schemes, empty_label=_("All awards")
    )

    class Meta:
        model = Award
        fields = []


AWARD_TABLE = Table(
    columns=(
        WORKER_NAME,
        Col("award", _("Award"), "scheme.name", sort="pinyin:scheme__name", wrap=True),
        Col("level", _("Level"), lambda a: a.scheme.get_level_display(), sort="scheme__level"),
        Col("year", _("Year"), "year", sort=("year", "scheme__name", "worker__name")),
        Col("reward", _("Reward (yuan)"), "reward_amount", sort="reward_amount", kind="money"),
        Col("paid", _("Paid on"), "paid_on", sort="paid_on", kind="date"),
    ),
    default_sort="-year",
    testid="awards",
    row_attrs=lambda a: {"data-award": a.pk},
)


def _awards(request):
    user = request.user
    if not user.has_perm("workforce.view_award"):
        return Award.objects.none()  # an analyst: the figures, not the people
    return _with_linkable_worker(award_list(user=user), user)


def _awards_export(request, rows):
    """Only those who may list the people export them; each export is audited."""
    if not request.user.has_perm("workforce.view_award"):
        return False
    count = rows.count()
    audit_record(
        actor=request.user,
        action="award.export",
        object_type="workforce.award",
        object_repr=f"{count} awards",
        after={"year": request.GET.get("year") or None, "rows": count},
    )
    return None


award_list_page = ListPage(
    title=_("Honours and rewards"),
    table=AWARD_TABLE,
    queryset=_awards,
    filterset=AwardFilter,
    export_name="honours",
    template="workforce/honours.html",
    empty_text=_("No honour matches."),
    on_export=_awards_export,
    no_store=True,
    # the view puts the figures, the summary and the forms on the request
    context=lambda request: request.honours_context,
)


# --- dispatches ---------------------------------------------------------------------------


class DispatchFilter(FilterSet):
    year = django_filters.ChoiceFilter(
        label=_("Year"), choices=year_choices, empty_label=_("All years"), method="in_year"
    )
    active = django_filters.BooleanFilter(
        label=_("Active today"),
        method="active_today",
        widget=django_filters.widgets.forms.CheckboxInput,
    )

    class Meta:
        model = Dispatch
        fields = []

    def in_year(self, queryset, name, value):
        """Dispatches under way at any time in the year."""
        return queryset.filter(pk__in=dispatch_list(user=self.request.user, year=int(value)))

    def active_today(self, queryset, name, value):
        if not value:
            return queryset
        today = timezone.localdate()
        return queryset.filter(pk__in=dispatch_list(user=self.request.user, active_on=today))


def _end_button(dispatch) -> str:
    if dispatch.ends_on is not None and dispatch.ends_on <= timezone.localdate():
        return ""
    return format_html(
        '<a href="{}" class="btn btn-sm btn-outline-secondary" data-testid="end-dispatch">{}</a>',
        reverse("workforce:dispatch_end", args=[dispatch.pk]),
        _("End"),
    )


def _dispatch_attrs(dispatch) -> dict:
    today = timezone.localdate()
    active = dispatch.starts_on <= today and (dispatch.ends_on is None or dispatch.ends_on > today)
    return {"data-dispatch": dispatch.pk, **({"data-active": 1} if active else {})}


def dispatch_list_page(*, can_end: bool) -> ListPage:
    """The dispatches sent from or to the user's area; those who may end a dispatch see the
    "End" button on each one still open."""
    columns = [
        WORKER_NAME,
        Col("home", _("Home facility"), "home_facility.name", wrap=True),
        Col("host_code", _("Division code"), "host_division.code", kind="code"),
        Col("host", _("Sent to"), "host_division.name", sort="host_division__code"),
        Col("host_facility", _("Host facility"), "host_facility.name", wrap=True),
        Col("start", _("From"), "starts_on", sort="starts_on", kind="date"),
        Col("end", _("Until"), "ends_on", sort="ends_on", kind="date"),
        Col("purpose", _("Purpose"), "purpose", wrap=True),
    ]
    if can_end:
        columns.append(Col("actions", _("Actions"), _end_button, export=False))
    return ListPage(
        title=_("Dispatches to poor areas"),
        table=Table(
            columns=tuple(columns),
            default_sort="-start",
            testid="dispatches",
            row_attrs=_dispatch_attrs,
        ),
        queryset=_dispatches,
        filterset=DispatchFilter,
        export_name="dispatches",
        template="workforce/dispatches.html",
        empty_text=_("No dispatch matches."),
        on_export=_dispatches_export,
        no_store=True,
        # the view puts the figures, the designations and the forms on the request
        context=lambda request: request.dispatches_context,
    )


def _dispatches(request):
    rows = dispatch_list(user=request.user).select_related("home_facility", "host_facility")
    return _with_linkable_worker(rows, request.user)


def _dispatches_export(request, rows):
    """Each export of the dispatches (names, never national IDs) is audited."""
    count = rows.count()
    audit_record(
        actor=request.user,
        action="dispatch.export",
        object_type="workforce.dispatch",
        object_repr=f"{count} dispatches",
        after={
            "year": request.GET.get("year") or None,
            "active": request.GET.get("active") in ("on", "true", "1"),
            "rows": count,
        },
    )
    return None


# --- universities -------------------------------------------------------------------------


class UniversityYearFilter(FilterSet):
    """The year whose graduates the page counts; every university in scope is listed."""

    year = django_filters.ChoiceFilter(
        label=_("Year"), choices=year_choices, empty_label=None, method="for_year"
    )

    class Meta:
        model = University
        fields = []

    def for_year(self, queryset, name, value):
        return queryset


def _lines(items, render) -> str:
    """Items one per line in a cell; None (shown as "—") when there are none."""
    return format_html_join(mark_safe("<br>"), "{}", ((render(i),) for i in items)) or None


def _programme(p) -> str:
    since = f", {p.since_year}" if p.since_year else ""
    return f"{p.name} ({p.get_level_display()}{since})"


def _base(b) -> str:
    return f"{b.name} ({b.first_year}–{b.last_year})"


def _graduates(university) -> dict[int, int]:
    by_year: dict[int, int] = {}
    for c in university.cohorts.all():
        by_year[c.year] = by_year.get(c.year, 0) + c.graduates
    return by_year


def university_list_page(*, year: int) -> ListPage:
    """Each university in scope with its programmes, innovation bases and graduates (those
    of ``year`` and of all years)."""

    def programmes(u):
        return sorted(u.programmes.all(), key=lambda p: (p.level, p.name))

    def bases(u):
        return sorted(u.bases.all(), key=lambda b: (b.first_year, b.name))

    columns = (
        Col("name", _("University"), "name", sort="pinyin:name", title=True, wrap=True),
        Col("code", _("Division code"), "division.code", sort="division__code", kind="code"),
        Col("division", _("Located in"), "division.name"),
        Col(
            "programmes",
            _("Social work degree programmes"),
            lambda u: _lines(programmes(u), _programme),
            wrap=True,
            export=lambda u: "; ".join(_programme(p) for p in programmes(u)),
        ),
        Col(
            "bases",
            _("Innovation bases"),
            lambda u: _lines(bases(u), _base),
            wrap=True,
            export=lambda u: "; ".join(_base(b) for b in bases(u)),
        ),
        Col(
            "funding",
            _("Base funding (yuan)"),
            lambda u: sum((b.funded_amount for b in u.bases.all()), Decimal(0)),
            kind="money",
        ),
        Col(
            "graduates",
            _("Graduates in %(year)s") % {"year": year},
            lambda u: _graduates(u).get(year, 0),
            kind="num",
        ),
        Col(
            "graduates_total",
            _("Graduates, all years"),
            lambda u: sum(_graduates(u).values()),
            kind="num",
        ),
    )
    return ListPage(
        title=_("Universities"),
        table=Table(
            columns=columns,
            default_sort="name",
            testid="universities",
            row_attrs=lambda u: {"data-university": u.pk},
        ),
        queryset=lambda request: university_list(user=request.user),
        filterset=UniversityYearFilter,
        export_name=f"universities-{year}",
        template="workforce/universities.html",
        empty_text=_("No university recorded in this area yet."),
        # the view puts the figures and the forms on the request
        context=lambda request: request.universities_context,
    )


# --- the registry -------------------------------------------------------------------------

CE_TAGS = {
    CE_COMPLETE: (_("complete"), "ok"),
    CE_SHORT: (_("short"), "warn"),
    CE_NOT_REGISTERED: (_("not registered"), "muted"),
}
SEX_LABELS = {"male": _("male"), "female": _("female")}


def _workplace(posting) -> str:
    return posting.facility.name if posting.facility_id else posting.workplace_name


def _current_workplaces(worker) -> str | None:
    return _lines(
        worker.current_postings,
        lambda p: format_html(
            '{} <small class="text-secondary">{} · {}</small>',
            _workplace(p),
            p.get_workplace_type_display(),
            p.get_employment_display(),
        ),
    )


def _qualification(worker) -> str:
    if not worker.certificate_number:
        return worker.get_qualification_level_display()
    return format_html(
        '{} <small class="text-secondary" translate="no">{}</small>',
        worker.get_qualification_level_display(),
        worker.certificate_number,
    )


WORKER_TABLE = Table(
    columns=(
        Col(
            "name",
            _("Name"),
            "name",
            sort=("pinyin:name", "id"),
            link=lambda w: reverse("workforce:worker", args=[w.pk]),
            title=True,
        ),
        Col("id", _("National ID (masked)"), "national_id_masked", kind="code"),
        Col("sex", _("Sex"), lambda w: SEX_LABELS.get(w.sex, ""), show=False),
        Col(
            "qualification",
            _("Qualification"),
            _qualification,
            sort=("qualification_rank", "pinyin:name"),
            export=lambda w: w.get_qualification_level_display(),
        ),
        Col("certificate", _("Certificate number"), "certificate_number", show=False),
        Col("year_passed", _("Year passed"), "qualification_year", show=False),
        Col("code", _("Division code"), "division.code", kind="code", show=False),
        Col(
            "division",
            _("Registered in"),
            "division.name",
            sort=("division__code", "pinyin:name"),
        ),
        Col(
            "workplace",
            _("Current workplace"),
            _current_workplaces,
            wrap=True,
            export=lambda w: "; ".join(_workplace(p) for p in w.current_postings),
        ),
        Col(
            "workplace_type",
            _("Workplace type"),
            lambda w: "; ".join(p.get_workplace_type_display() for p in w.current_postings),
            show=False,
        ),
        Col(
            "ce",
            _("Continuing education"),
            lambda w: CE_TAGS.get(w.ce_status, CE_TAGS[CE_NOT_REGISTERED])[0],
            kind="tag",
            tone=lambda w: CE_TAGS.get(w.ce_status, CE_TAGS[CE_NOT_REGISTERED])[1],
        ),
    ),
    default_sort="name",
    testid="worker-table",
    row_attrs=lambda w: {"data-worker": w.pk, "data-ce": w.ce_status},
)


EXPORT_CAP = 20000  # rows of personal data in one export (security.md 17)


def _registry_rows(request):
    """The registry's rows: the filters the view read from the search form
    (``request.registry_filters``), narrowed to one person after an exact national-ID search
    (``request.registry_match``: the person's pk, or 0 when nobody was found)."""
    filters = request.registry_filters
    today = timezone.localdate()
    current = Posting.objects.filter(started_on__lte=today).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=today)
    )
    rows = (
        registry_list(
            user=request.user,
            today=today,
            query=filters.get("q", ""),
            qualification=filters.get("qualification", ""),
            workplace=filters.get("workplace", ""),
            facility_id=filters.get("facility"),
            division=filters.get("division", ""),
            ce=filters.get("ce", ""),
        )
        .annotate(qualification_rank=qualification_rank())
        .prefetch_related(
            Prefetch(
                "postings",
                queryset=current.select_related("facility").order_by("employment", "-started_on"),
                to_attr="current_postings",
            )
        )
    )
    match = getattr(request, "registry_match", None)
    if match is not None:
        rows = rows.filter(pk=match)
    return rows


def _registry_count(request, rows) -> int:
    """The count of a whole city's people is a scan: kept while the data is unchanged."""
    query = sorted((k, v) for k, v in request.GET.items() if k not in ("page", "sort"))
    return cached_figures(
        "registry-count",
        (request.user.pk, timezone.localdate(), query, getattr(request, "registry_match", None)),
        rows.count,
    )


def _registry_export(request, rows):
    """The filtered list as .xlsx (masked IDs, no phone): capped and audited."""
    count = rows.count()
    if count > EXPORT_CAP:
        messages.error(
            request,
            _("The export is limited to %(cap)d people; narrow the list first.")
            % {"cap": EXPORT_CAP},
        )
        query = request.GET.copy()
        query.pop("format", None)
        return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)
    audit_record(
        actor=request.user,
        action="social_worker.export",
        object_type="workforce.socialworker",
        object_repr=f"{count} social workers",
        after={"filters": {k: str(v) for k, v in request.registry_filters.items()}, "rows": count},
    )
    return None


worker_list_page = ListPage(
    title=_("Social workers"),
    table=WORKER_TABLE,
    queryset=_registry_rows,
    export_name="social-workers",
    template="workforce/registry.html",
    empty_text=_("No social worker matches."),
    on_export=_registry_export,
    count=_registry_count,
    no_store=True,
    # the view puts the search form and what it found on the request
    context=lambda request: request.registry_context,
)
