"""Workforce pages: the registry of social workers (search, filters, export), a person's
page, and the workforce dashboard of a division."""

from datetime import date
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from shegong.core.audit import audit_record
from shegong.core.forms import add_service_errors
from shegong.core.permissions import permission_required_or_403
from shegong.core.scoping import CHANGE, VIEW, get_scoped_or_404
from shegong.core.validators import mask_national_id, mask_phone
from shegong.core.views import import_page
from shegong.core.xlsx import XLSX_CONTENT_TYPE, xlsx_response
from shegong.geo import models as geo_models
from shegong.geo import selectors as geo_selectors
from shegong.geo import services as geo_services
from shegong.geo.models import Division
from shegong.geo.selectors import (
    division_by_code,
    division_children,
    division_in_scope_or_404,
)
from shegong.network.models import Facility
from shegong.workforce import forms as talent_forms
from shegong.workforce import models as wm
from shegong.workforce import selectors as talent_selectors
from shegong.workforce import services as talent_services
from shegong.workforce.ce import ce_standing
from shegong.workforce.forms import (
    CompleteForm,
    CourseForm,
    EnrolForm,
    HeadcountForm,
    ProgrammeForm,
    RegistryForm,
)
from shegong.workforce.io import WORKER_COLUMNS, worker_template
from shegong.workforce.lists import (
    AwardFilter,
    DispatchFilter,
    UniversityYearFilter,
    award_list_page,
    course_list_page,
    dispatch_list_page,
    university_list_page,
    worker_list_page,
)
from shegong.workforce.models import (
    Audience,
    Course,
    Enrolment,
    QualificationLevel,
    SocialWorker,
    WorkplaceType,
)
from shegong.workforce.selectors import (
    CE_COMPLETE,
    CE_NOT_REGISTERED,
    CE_SHORT,
    cached_figures,
    ce_compliance_summary,
    latest_training_year,
    people_in_post,
    per_10k,
    programme_years,
    programmes_for,
    talent_figures,
    training_person_times,
)
from shegong.workforce.services import social_worker_find_by_national_id
from shegong.workforce.tasks import WORKER_IMPORT_KIND


def _as_of(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("as_of", ""))
    except ValueError:
        return timezone.localdate()


def _no_store(response):
    """Pages with personal data are not kept in caches (security.md 14)."""
    response["Cache-Control"] = "no-store"
    return response


# --- the registry -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.view_socialworker")
def registry(request):
    """Social workers in scope: search, filters, sorting, pages and an .xlsx export.

    The search box takes a name (contains), a certificate number (exact) or a national ID
    (exact, through the keyed look-up hash). A national ID must never reach a URL (address
    bar, history, server and proxy logs, Referer headers; security.md 14), so the search
    form is sent by POST:

    - if the query is shaped like a national ID (17 digits and a digit or X), the search is
      done in the POST itself and the answer rendered there, with the ID neither put in a
      URL nor echoed back into the page (the person's masked ID is shown instead); an ID
      with a wrong check digit finds nobody and says so;
    - anything else (a name, a certificate number, the filters) is redirected to the
      same page with the filters in the query string, so results can be paged, sorted,
      bookmarked and exported with plain links.

    A GET whose ``q`` is shaped like an ID (typed into the address bar) is redirected
    without it.
    """
    form = RegistryForm(request.POST if request.method == "POST" else request.GET)
    form.is_valid()
    filters = form.filters()
    if form.id_like_query:
        filters.pop("q", None)
        if request.method == "GET":
            return redirect(_registry_url(filters))
        return _id_search(request, form, filters)
    if request.method == "POST":
        if filters.get("sort") == "name":
            del filters["sort"]
        return redirect(_registry_url(filters))
    request.registry_filters = filters
    request.registry_context = _registry_context(request, form, filters)
    return worker_list_page(request)


def _registry_url(filters: dict) -> str:
    url = reverse("workforce:workers")
    return f"{url}?{urlencode(filters)}" if filters else url


def _registry_context(request, form, filters, **extra) -> dict:
    facility = None
    if filters.get("facility"):
        facility = (
            Facility.objects.restrict(request.user, VIEW).filter(pk=filters["facility"]).first()
        )
    division = (
        division_by_code(user=request.user, code=filters["division"])
        if filters.get("division")
        else None
    )
    return {"form": form, "facility": facility, "filter_division": division, **extra}


def _id_search(request, form, filters):
    """An exact search by national ID, answered in the POST response: the list narrowed to
    the person found (or to nobody), with the ID neither in a URL nor in the page."""
    query = form.data.get("q", "").strip()
    worker = social_worker_find_by_national_id(user=request.user, national_id=query)
    audit_record(
        actor=request.user,
        action="social_worker.search",
        target=worker,
        object_type="workforce.socialworker",
        after={"by": "national_id", "found": worker is not None},
    )
    # the page's form shows the filters but not the ID that was typed
    shown = RegistryForm({k: v for k, v in filters.items() if k != "q"})
    shown.is_valid()
    request.registry_filters = filters
    request.registry_match = worker.pk if worker else 0
    request.registry_context = _registry_context(
        request,
        shown,
        filters,
        id_search=True,
        id_searched_masked=mask_national_id(query.upper()),
        empty_text=_("No social worker with this ID is registered in your area."),
        export=False,  # the export is of the filters, in a URL: never of an ID
    )
    return worker_list_page(request)


def _sex_label(sex: str) -> str:
    return {"male": _("male"), "female": _("female")}.get(sex, "")


# --- a person's page ----------------------------------------------------------------------


@require_GET
@login_required
@permission_required_or_403("workforce.view_socialworker")
def worker_detail(request, pk: int):
    """One social worker: details (ID and phone masked), postings, registration periods with
    continuing education, training, honours and dispatches. Viewing it is audited."""
    worker = get_scoped_or_404(
        SocialWorker.objects.select_related("division"), request.user, VIEW, pk=pk
    )
    audit_record(actor=request.user, action="social_worker.view", target=worker)
    today = timezone.localdate()
    postings = list(
        worker.postings.select_related("facility__division").order_by("-started_on", "-id")
    )
    visible = set(
        Facility.objects.restrict(request.user, VIEW)
        .filter(pk__in=[p.facility_id for p in postings if p.facility_id])
        .values_list("pk", flat=True)
    )
    timeline = [
        {
            "posting": p,
            "current": p.started_on <= today and (p.ended_on is None or p.ended_on > today),
            "link": p.facility_id in visible,
        }
        for p in postings
    ]
    standings = [
        {
            "standing": s,
            "current": s.starts_on <= today <= s.ends_on,
            "days_left": s.days_left(today) if s.ends_on >= today else None,
        }
        for s in ce_standing(worker)
    ]
    response = render(
        request,
        "workforce/worker_detail.html",
        {
            "worker": worker,
            "sex": _sex_label(worker.sex),
            "phone_masked": mask_phone(worker.phone),
            "education": worker.education.all(),
            "timeline": timeline,
            "standings": standings,
            "enrolments": worker.enrolments.select_related("course").order_by(
                "-course__starts_on", "-id"
            ),
            "awards": worker.awards.select_related("scheme").order_by("-year", "-id"),
            "dispatches": worker.dispatches.select_related(
                "host_division", "home_facility", "host_facility"
            ).order_by("-starts_on", "-id"),
        },
    )
    return _no_store(response)


# --- the dashboard ------------------------------------------------------------------------


DASHBOARD_PANELS = ("people", "ce", "children", "talent")


@require_GET
@login_required
@permission_required_or_403("network.view_facility")
def dashboard(request):
    """The workforce dashboard of the user's division (or one in scope): social workers in
    post, continuing education, the divisions below and the talent figures. Aggregates only:
    analysts may see it. The page is a frame; each panel loads after it
    (``dashboard_panel``), so the page answers at once even for the whole city."""
    division = division_in_scope_or_404(user=request.user, code=request.GET.get("division"))
    as_of = _as_of(request)
    if request.GET.get("format") == "xlsx":
        return _dashboard_export(request, division, as_of)
    parent = None
    if division.parent_code and division.parent_code.startswith(request.user.scope_prefix):
        parent = Division.objects.filter(code=division.parent_code).first()
        if parent is not None and parent.is_grouping and parent.parent_code:
            parent = Division.objects.filter(code=parent.parent_code).first()
    query = {"division": division.code, "as_of": as_of.isoformat()}
    year = _talent_year(request)
    if year:
        query["year"] = year
    return render(
        request,
        "workforce/dashboard.html",
        {
            "division": division,
            "parent": parent,
            "as_of": as_of,
            "panel_query": urlencode(query),
            "panels": DASHBOARD_PANELS,
        },
    )


@require_GET
@login_required
@permission_required_or_403("network.view_facility")
def dashboard_panel(request, name: str):
    """One panel of the dashboard, loaded by htmx after the page (the same query string)."""
    if name not in DASHBOARD_PANELS:
        raise Http404
    division = division_in_scope_or_404(user=request.user, code=request.GET.get("division"))
    as_of = _as_of(request)
    context = {"division": division, "as_of": as_of}
    if name == "people":
        people = _people(division, as_of)
        context.update(
            people=people,
            per_10k=per_10k(people["professionals"], division.population),
            qualification_rows=_qualification_rows(people),
            workplace_rows=_workplace_rows(people),
        )
        context["chart_data"] = {
            "qualification": [
                {"level": level, "label": str(label), "value": n}
                for level, label, n in context["qualification_rows"]
            ]
        }
    elif name == "ce":
        context["ce"] = _ce(division, as_of)
    elif name == "children":
        context["child_rows"] = _child_rows(request.user, division, as_of)
    else:
        year = _talent_year(request) or cached_figures(
            "talent-year",
            (division.code, as_of),
            lambda: latest_training_year(division=division, as_of=as_of),
        )
        context.update(
            talent_year=year,
            talent=cached_figures(
                "talent",
                (division.code, as_of, year),
                lambda: talent_figures(division=division, year=year, as_of=as_of),
            ),
            audiences=Audience.choices,
            person_times=[
                (y, [(label, counts.get(a, 0)) for a, label in Audience.choices])
                for y, counts in sorted(
                    cached_figures(
                        "person-times",
                        (division.code,),
                        lambda: training_person_times(division=division),
                    ).items(),
                    reverse=True,
                )
            ],
        )
    return render(request, f"workforce/panels/{name}.html", context)


def _people(division, as_of, child_codes=()) -> dict:
    codes = list(child_codes)
    return cached_figures(
        "people",
        (division.code, as_of, ",".join(codes)),
        lambda: people_in_post(division=division, as_of=as_of, child_codes=codes),
    )


def _ce(division, as_of) -> dict:
    return cached_figures(
        "ce", (division.code, as_of), lambda: ce_compliance_summary(division=division, today=as_of)
    )


def _qualification_rows(people) -> list:
    return [
        (level, QualificationLevel(level).label, n)
        for level, n in people["by_qualification"].items()
    ]


def _workplace_rows(people) -> list:
    return [(wt, WorkplaceType(wt).label, n) for wt, n in people["by_workplace"].items()]


def _child_rows(user, division, as_of) -> list[dict]:
    children = list(division_children(user=user, division=division))
    counts = _people(division, as_of, [c.code for c in children])["by_child"]
    return [
        {
            "division": child,
            "headcount": counts.get(child.code, 0),
            "per_10k": per_10k(counts.get(child.code, 0), child.population),
        }
        for child in children
    ]


def _dashboard_export(request, division, as_of):
    """The dashboard's figures as .xlsx: one row per figure, then the divisions below."""
    rows = _child_rows(request.user, division, as_of)
    people = _people(division, as_of)
    ce = _ce(division, as_of)
    ratio = per_10k(people["professionals"], division.population)
    figures = [
        (_("Social workers in post"), people["professionals"]),
        (_("Of whom at the grassroots"), people["grassroots"]),
        (_("Social workers per 10,000 residents"), "—" if ratio is None else ratio),
        *(
            (_("Qualification") + ": " + str(label), n)
            for _level, label, n in _qualification_rows(people)
        ),
        *(
            (_("Workplace type") + ": " + str(label), n)
            for _wt, label, n in _workplace_rows(people)
        ),
        (_("Registered people with their hours complete"), ce[CE_COMPLETE]),
        (_("Registered people short of hours"), ce[CE_SHORT]),
        (_("People without a current registration period"), ce[CE_NOT_REGISTERED]),
        *(
            (
                f"{row['division'].name} ({row['division'].code})",
                row["headcount"],
            )
            for row in rows
        ),
    ]
    return xlsx_response(
        f"workforce-{division.code}-{as_of:%Y%m%d}.xlsx",
        str(_("Workforce")),
        [_("Figure"), _("Value")],
        figures,
    )


# --- training ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.view_course")
def training(request):
    """Training in the user's area: person-times by year and audience (F12, F14), the
    programmes (F13), the courses (filtered, paginated, exported), and forms to add a
    programme (the city) or a course."""
    user = request.user
    division = user.division
    course_form = programme_form = None
    if user.has_perm("workforce.add_course"):
        bound = request.method == "POST" and request.POST.get("form") == "course"
        course_form = CourseForm(request.POST if bound else None, user=user)
    if user.has_perm("workforce.add_trainingprogramme"):
        bound = request.method == "POST" and request.POST.get("form") == "programme"
        programme_form = ProgrammeForm(request.POST if bound else None)
    if request.method == "POST":
        which = request.POST.get("form")
        form = {"course": course_form, "programme": programme_form}.get(which)
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                if which == "course":
                    course = talent_services.course_create(
                        actor=user,
                        division=division,
                        title=data["title"],
                        audience=data["audience"],
                        organiser=data["organiser"],
                        starts_on=data["starts_on"],
                        ends_on=data["ends_on"],
                        hours=data["hours"],
                        external_headcount=data["external_headcount"] or 0,
                        programme=data["programme"],
                    )
                else:
                    talent_services.training_programme_create(
                        actor=user,
                        division=division,
                        name=data["name"],
                        first_year=data["first_year"],
                        last_year=data["last_year"],
                        target_per_year=data["target_per_year"] or 0,
                    )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if which == "course":
                    messages.success(request, _("The course was created."))
                    return redirect("workforce:course", pk=course.pk)
                messages.success(request, _("The programme was created."))
                return redirect("workforce:training")
    person_times = cached_figures(
        "person-times", (division.code,), lambda: training_person_times(division=division)
    )
    request.training_context = {
        "audiences": Audience.choices,
        "person_times": [
            (
                y,
                [(label, counts.get(a, 0)) for a, label in Audience.choices],
                sum(counts.values()),
            )
            for y, counts in sorted(person_times.items(), reverse=True)
        ],
        "programmes": [
            (p, programme_years(p, division=division))
            for p in programmes_for(division).order_by("-first_year")
        ],
        "course_form": course_form,
        "programme_form": programme_form,
    }
    response = course_list_page(request)
    if request.method == "POST":
        response.status_code = 422  # a form with errors, shown again
    return response


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.view_course")
def course_detail(request, pk: int):
    """A course: its enrolments (registered people, by name only), attendance and completion
    (which credits continuing-education hours), and the external head-count."""
    user = request.user
    course = get_scoped_or_404(
        Course.objects.select_related("division", "programme"), user, VIEW, pk=pk
    )
    can_enrol = user.has_perm("workforce.add_enrolment")
    can_change = user.has_perm("workforce.change_enrolment")
    can_headcount = user.has_perm("workforce.change_course")
    action = request.POST.get("action") if request.method == "POST" else None
    enrol_form = EnrolForm(request.POST if action == "enrol" else None) if can_enrol else None
    complete_form = CompleteForm(request.POST if action == "complete" else None)
    headcount_form = HeadcountForm(
        request.POST if action == "headcount" else None,
        initial={"external_headcount": course.external_headcount},
    )
    if request.method == "POST":
        allowed = {
            "enrol": can_enrol,
            "attend": can_change,
            "absent": can_change,
            "complete": can_change,
            "headcount": can_headcount,
        }
        if not allowed.get(action):
            raise PermissionDenied
        try:
            if action == "enrol":
                if enrol_form.is_valid():
                    worker = social_worker_find_by_national_id(
                        user=user, national_id=enrol_form.cleaned_data["national_id"]
                    )
                    if worker is None:
                        enrol_form.add_error(
                            "national_id",
                            _("No social worker with this ID is registered in your area."),
                        )
                    else:
                        talent_services.enrolment_create(actor=user, course=course, worker=worker)
                        messages.success(
                            request, _("%(name)s was enrolled.") % {"name": worker.name}
                        )
                        return redirect("workforce:course", pk=course.pk)
            elif action == "headcount":
                if headcount_form.is_valid():
                    talent_services.course_set_headcount(
                        actor=user,
                        course=course,
                        external_headcount=headcount_form.cleaned_data["external_headcount"],
                    )
                    messages.success(request, _("The head-count was saved."))
                    return redirect("workforce:course", pk=course.pk)
            else:
                enrolment = get_scoped_or_404(
                    Enrolment.objects.filter(course=course),
                    user,
                    CHANGE,
                    pk=request.POST.get("enrolment") or 0,
                )
                if action in ("attend", "absent"):
                    talent_services.enrolment_set_attendance(
                        actor=user, enrolment=enrolment, attended=action == "attend"
                    )
                    return redirect("workforce:course", pk=course.pk)
                if complete_form.is_valid():
                    talent_services.enrolment_complete(
                        actor=user,
                        enrolment=enrolment,
                        completed_on=complete_form.cleaned_data["completed_on"],
                        certificate_number=complete_form.cleaned_data["certificate_number"],
                    )
                    messages.success(
                        request, _("Completed: the hours were credited as continuing education.")
                    )
                    return redirect("workforce:course", pk=course.pk)
        except ValidationError as exc:
            form = {"enrol": enrol_form, "headcount": headcount_form}.get(action, complete_form)
            add_service_errors(form, exc)
            if form is complete_form:
                for message in exc.messages:
                    messages.error(request, message)
    enrolments = (
        Enrolment.objects.restrict(user, VIEW)
        .filter(course=course)
        .select_related("worker", "ce_credit")
        .order_by("worker__name", "pk")
    )
    attended = sum(1 for e in enrolments if e.attended)
    return _no_store(
        render(
            request,
            "workforce/course.html",
            {
                "course": course,
                "enrolments": enrolments,
                "attended": attended,
                "person_times": attended + course.external_headcount,
                "enrol_form": enrol_form,
                "complete_form": complete_form if can_change else None,
                "headcount_form": headcount_form if can_headcount else None,
                "can_change": can_change,
            },
        )
    )


# --- bulk onboarding --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.add_socialworker")
def worker_import(request):
    """Upload an .xlsx of social workers; the import runs in the background and its page
    (``core:job``) shows progress, then the report."""
    return import_page(
        request,
        kinds={"workers": (WORKER_IMPORT_KIND, _("Social workers"))},
        title=_("Import social workers"),
        intro=_(
            "Register many social workers at once, with their qualification, education and "
            "posting. The whole file is checked first: if any row is wrong, nothing is "
            "imported and every wrong row is listed with its reason. People already registered "
            "with the same details are left as they are, so a file can be imported again "
            "safely. Large files run in the background; the next page shows the progress."
        ),
        templates=[(reverse("workforce:import_template"), _("Download the template (.xlsx)"))],
        columns=WORKER_COLUMNS,
    )


@require_GET
@login_required
@permission_required_or_403("workforce.add_socialworker")
def worker_import_template(request):
    """The import sheet with its headers and an example row."""
    response = HttpResponse(worker_template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="social-workers-template.xlsx"'
    return response


# --- honours, universities, dispatches ---------------------------------------------------------


def _page_forms(request, specs: dict) -> tuple[dict, str | None]:
    """The forms of a page with several: ``specs`` maps each form's key to (form class,
    permission, keyword arguments). Forms the user may not use are None; on a POST only the
    form named by the hidden ``form`` field is bound, and a POST to a form the user may not
    use (or to none) is refused (403). Returns the forms and the key of the posted one."""
    posted = request.POST.get("form") if request.method == "POST" else None
    if request.method == "POST":
        spec = specs.get(posted)
        if spec is None or not request.user.has_perm(spec[1]):
            raise PermissionDenied
    forms_ = {}
    for key, (form_class, perm, kwargs) in specs.items():
        if not request.user.has_perm(perm):
            forms_[key] = None
        elif key == posted:
            forms_[key] = form_class(request.POST, **kwargs)
        else:
            forms_[key] = form_class(**kwargs)
    return forms_, posted


def _int_param(request, name: str) -> int | None:
    value = request.GET.get(name, "").strip()
    return int(value) if value.isdigit() and len(value) <= 9 else None


def _talent_year(request) -> int | None:
    """The ``year`` of the query string, if it is a plausible year."""
    year = _int_param(request, "year")
    return year if year is not None and 1949 <= year <= 2100 else None


def _saved(request, message: str, url_name: str):
    messages.success(request, message)
    return redirect(url_name)


def _linkable_workers(user, worker_ids) -> set[int]:
    """Of these people, those whose page the user may open."""
    if not user.has_perm("workforce.view_socialworker"):
        return set()
    return set(
        SocialWorker.objects.restrict(user, VIEW)
        .filter(pk__in=set(worker_ids))
        .values_list("pk", flat=True)
    )


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.view_awardscheme")
def honours(request):
    """Honours and rewards: per-award summary and F17–F20 for the user's division, the
    people honoured (filter by year and award, sortable, .xlsx), and for the city the
    forms to create an award and to honour a person (found by exact national ID)."""
    user = request.user
    schemes = talent_selectors.award_scheme_list(user=user).order_by("level", "name")
    forms_, posted = _page_forms(
        request,
        {
            "scheme": (talent_forms.AwardSchemeForm, "workforce.add_awardscheme", {}),
            "award": (talent_forms.AwardForm, "workforce.add_award", {"schemes": schemes}),
        },
    )
    form = forms_.get(posted)
    if posted == "scheme" and form.is_valid():
        data = form.cleaned_data
        try:
            talent_services.award_scheme_create(
                actor=user,
                name=data["name"],
                level=data["level"],
                category=data["category"],
                reward_amount=data["reward_amount"],
                division=user.division,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, _("The award was created."), "workforce:honours")
    if posted == "award" and form.is_valid():
        data = form.cleaned_data
        scheme = get_scoped_or_404(wm.AwardScheme, user, VIEW, pk=data["scheme"])
        worker = talent_services.social_worker_find_by_national_id(
            user=user, national_id=data["national_id"]
        )
        if worker is None:
            form.add_error(
                "national_id", _("No social worker with this ID is registered in your area.")
            )
        else:
            try:
                talent_services.award_create(
                    actor=user,
                    scheme=scheme,
                    worker=worker,
                    year=data["year"],
                    reward_amount=data["reward_amount"],
                    paid_on=data["paid_on"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _saved(request, _("The honour was recorded."), "workforce:honours")

    year = int(AwardFilter(request.GET or None, request=request).value("year") or 0) or None
    request.honours_context = {
        "division": user.division,
        "year": year,
        "summary": [
            {**row, "level_label": wm.HonourLevel(row["level"]).label}
            for row in cached_figures(
                "honours-summary",
                (user.division.code, year),
                lambda: talent_selectors.honours_summary(division=user.division, year=year),
            )
        ],
        "figures": cached_figures(
            "honours-figures",
            (user.division.code, year),
            lambda: talent_selectors.honours_figures(division=user.division, year=year),
        ),
        "can_list": user.has_perm("workforce.view_award"),
        "scheme_form": forms_["scheme"],
        "award_form": forms_["award"],
    }
    response = award_list_page(request)
    if posted:
        response.status_code = 422  # a form with errors, shown again
    return response


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.view_university")
def universities(request):
    """Universities: F9–F11 for a year (default: the latest year with graduates), each
    university with its programmes, innovation bases and graduates by year (.xlsx), and
    the city's forms to add a university, a programme, a base and a year's graduates."""
    user = request.user
    listed = talent_selectors.university_list(user=user)
    choices = {"universities": listed}
    forms_, posted = _page_forms(
        request,
        {
            "university": (talent_forms.UniversityForm, "workforce.add_university", {"user": user}),
            "programme": (
                talent_forms.DegreeProgrammeForm,
                "workforce.add_degreeprogramme",
                choices,
            ),
            "base": (talent_forms.InnovationBaseForm, "workforce.add_innovationbase", choices),
            "cohort": (talent_forms.GraduateCohortForm, "workforce.add_graduatecohort", choices),
        },
    )
    form = forms_.get(posted)
    if form is not None and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("form", None)
        try:
            if posted == "university":
                talent_services.university_create(
                    actor=user, name=data["name"], division=data["division"]
                )
                message = _("The university was added.")
            else:
                data["university"] = get_scoped_or_404(
                    wm.University.objects.select_related("division"),
                    user,
                    VIEW,
                    pk=data["university"],
                )
                if posted == "programme":
                    talent_services.degree_programme_add(actor=user, **data)
                    message = _("The programme was added.")
                elif posted == "base":
                    talent_services.innovation_base_add(actor=user, **data)
                    message = _("The innovation base was added.")
                else:
                    talent_services.graduate_cohort_record(actor=user, **data)
                    message = _("The graduates were recorded.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, message, "workforce:universities")

    cohort_years = sorted(
        set(wm.GraduateCohort.objects.restrict(user, VIEW).values_list("year", flat=True)),
        reverse=True,
    )
    chosen = UniversityYearFilter(request.GET or None, request=request).value("year")
    year = int(chosen or 0) or (cohort_years[0] if cohort_years else timezone.localdate().year)
    request.universities_context = {
        "division": user.division,
        "year": year,
        "summary": talent_selectors.university_summary(division=user.division, year=year),
        "university_form": forms_["university"],
        "programme_form": forms_["programme"],
        "base_form": forms_["base"],
        "cohort_form": forms_["cohort"],
    }
    response = university_list_page(year=year)(request)
    if posted:
        response.status_code = 422  # a form with errors, shown again
    return response


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.view_dispatch")
def dispatches(request):
    """Dispatches to poor counties and deep-poverty towns: F26/F27 for the user's division,
    the dispatches sent from or to the area (filter by year and "active today", .xlsx),
    the designations, and the forms to send someone, to designate an area and to set a
    division's population."""
    user = request.user
    today = timezone.localdate()
    home_facilities = (
        Facility.objects.restrict(user, VIEW)
        .exclude(status="closed")  # FacilityStatus.CLOSED
        .select_related("division")
        .order_by("division__code", "tier", "name")
    )
    forms_, posted = _page_forms(
        request,
        {
            "dispatch": (
                talent_forms.DispatchForm,
                "workforce.add_dispatch",
                {"home_facilities": home_facilities},
            ),
            "designation": (
                talent_forms.DesignationForm,
                "geo.add_povertydesignation",
                {"user": user},
            ),
            "population": (talent_forms.PopulationForm, "geo.change_division", {"user": user}),
        },
    )
    form = forms_.get(posted)
    if posted == "dispatch" and form.is_valid():
        data = form.cleaned_data
        worker = talent_services.social_worker_find_by_national_id(
            user=user, national_id=data["national_id"]
        )
        if worker is None:
            form.add_error(
                "national_id", _("No social worker with this ID is registered in your area.")
            )
        else:
            try:
                talent_services.dispatch_create(
                    actor=user,
                    worker=worker,
                    host_division=data["host_division"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                    purpose=data["purpose"],
                    home_facility=data["home_facility"],
                    host_facility=data["host_facility"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _saved(request, _("The dispatch was recorded."), "workforce:dispatches")
    if posted == "designation" and form.is_valid():
        data = form.cleaned_data
        try:
            geo_services.poverty_designate(
                actor=user,
                division=data["division"],
                kind=data["kind"],
                designated_on=data["designated_on"],
                document=data["document"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, _("The designation was recorded."), "workforce:dispatches")
    if posted == "population" and form.is_valid():
        try:
            geo_services.division_set_population(
                actor=user,
                division=form.cleaned_data["division"],
                population=form.cleaned_data["population"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, _("The population was saved."), "workforce:dispatches")

    year = int(DispatchFilter(request.GET or None, request=request).value("year") or 0) or None
    request.dispatches_context = {
        "division": user.division,
        "year": year,
        "summary": cached_figures(
            "dispatch-summary",
            (user.division.code, year, today),
            lambda: talent_selectors.dispatch_summary(
                division=user.division,
                year=year,
                as_of=min(today, date(year, 12, 31)) if year else today,
            ),
        ),
        "designations": geo_selectors.poverty_designation_list(user=user),
        "can_lift": user.has_perm("geo.change_povertydesignation"),
        "dispatch_form": forms_["dispatch"],
        "designation_form": forms_["designation"],
        "population_form": forms_["population"],
    }
    response = dispatch_list_page(can_end=user.has_perm("workforce.change_dispatch"))(request)
    if posted:
        response.status_code = 422  # a form with errors, shown again
    return response


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("workforce.change_dispatch")
def dispatch_end(request, pk: int):
    """End a dispatch on a date (the person came home), after confirmation."""
    dispatch = get_scoped_or_404(
        wm.Dispatch.objects.select_related("worker", "host_division"), request.user, CHANGE, pk=pk
    )
    form = talent_forms.EndDispatchForm(
        request.POST or None, initial={"ended_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            talent_services.dispatch_end(
                actor=request.user, dispatch=dispatch, ended_on=form.cleaned_data["ended_on"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, _("The dispatch was ended."), "workforce:dispatches")
    response = render(
        request,
        "workforce/confirm_form.html",
        {
            "form": form,
            "title": _("End a dispatch"),
            "summary": f"{dispatch.worker.name} → {dispatch.host_division.name} "
            f"({dispatch.starts_on:%Y-%m-%d})",
            "question": _("End this dispatch? The record is kept."),
            "back": reverse("workforce:dispatches"),
        },
    )
    return _no_store(response)


@require_http_methods(["GET", "POST"])
@login_required
@permission_required_or_403("geo.change_povertydesignation")
def designation_lift(request, pk: int):
    """Lift a poor-county or deep-poverty-town designation from a date, after
    confirmation."""
    designation = get_scoped_or_404(
        geo_models.PovertyDesignation.objects.select_related("division"),
        request.user,
        CHANGE,
        pk=pk,
    )
    form = talent_forms.LiftDesignationForm(
        request.POST or None, initial={"lifted_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            geo_services.poverty_lift(
                actor=request.user,
                designation=designation,
                lifted_on=form.cleaned_data["lifted_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(request, _("The designation was lifted."), "workforce:dispatches")
    return render(
        request,
        "workforce/confirm_form.html",
        {
            "form": form,
            "title": _("Lift a designation"),
            "summary": f"{designation.division.name} · {designation.get_kind_display()} "
            f"({designation.designated_on:%Y-%m-%d})",
            "question": _("Lift this designation? The record is kept."),
            "back": reverse("workforce:dispatches"),
        },
    )
