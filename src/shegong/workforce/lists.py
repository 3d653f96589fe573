"""The workforce's declared lists (``core.lists``): the courses of the training page."""

from __future__ import annotations

import django_filters
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.workforce.models import Audience, Course, Enrolment
from shegong.workforce.selectors import course_list


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
