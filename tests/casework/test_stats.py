"""Person-times statistics: one GROUP BY query, scoped per role, the analyst's small cells
suppressed (4 person-times hidden, 5 shown), F28, the statistics page and API, and a
project's outputs computed from the service records that name it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shegong.casework.selectors.stats import f28_poverty_person_times, person_times
from shegong.projects.models import MonthlyReport, Project
from shegong.projects.selectors import kpis_vs_reported
from tests.casework import test_records as base
from tests.casework.world import make_resident

pytestmark = pytest.mark.django_db

# the shared world and helpers of tests/casework/test_records.py
_english = base._english
place = base.place
residents = base.residents
visit = base.visit


@pytest.fixture
def served(place):
    """March 2024 in 桥北社区: a dibao group session of 4 and a talk to 5 (left-behind
    elders); April: a visit to 1 resident; and in the next community (station's area only):
    a talk to 7, marked poverty alleviation."""
    people = residents(5)
    visit(
        place,
        served_on=date(2024, 3, 5),
        residents=people[:4],
        target_group="dibao",
        method="group",
    )
    visit(
        place,
        served_on=date(2024, 3, 20),
        residents=[],
        headcount=5,
        target_group="left_behind_elder",
        method="community",
        domain="policy_publicity",
    )
    visit(place, served_on=date(2024, 4, 2), residents=[people[4]], target_group="dibao")
    visit(
        place,
        actor=place["station_staff"],
        facility=place["next_room"],
        served_on=date(2024, 3, 9),
        residents=[],
        headcount=7,
        target_group="dibao",
        poverty_alleviation=True,
        method="community",
    )
    return people


def _cells(rows, *keys):
    return {tuple(r[k] for k in keys): r["person_times"] for r in rows}


def test_person_times_by_month_and_group_in_one_query(place, served):
    # given the services above
    # when the county user asks for person-times by month and target group
    with CaptureQueriesContext(connection) as queries:
        rows = person_times(place["county"], by=("month", "target_group"))
    # then one GROUP BY query answers
    assert len(queries) == 1
    assert "GROUP BY" in queries[0]["sql"]
    # and the cells add up the records' person-times
    assert _cells(rows, "month", "target_group") == {
        (date(2024, 3, 1), "dibao"): 11,
        (date(2024, 3, 1), "left_behind_elder"): 5,
        (date(2024, 4, 1), "dibao"): 1,
    }


def test_each_role_sees_its_own_area(place, served):
    # the room worker sees only their community's 10; the station the whole town's 17
    total = lambda user: sum(r["person_times"] for r in person_times(user, by=("method",)))  # noqa: E731
    assert total(place["worker"]) == 10
    assert total(place["station_staff"]) == 17
    # and an area inside the scope narrows it; one outside is not found
    rows = person_times(place["county"], area_code="500105001002", by=("town",))
    assert rows == [{"town": "500105001", "person_times": 7, "records": 1}]
    from django.http import Http404

    with pytest.raises(Http404):
        person_times(place["worker"], area_code="500105001002", by=("month",))


def test_the_analysts_small_cells_are_suppressed(place, served):
    # given the analyst (aggregates only) and the county staff
    # when both ask by month, target group and community
    by = ("month", "target_group", "community")
    analyst = _cells(person_times(place["analyst"], by=by), *by)
    staff = _cells(person_times(place["county"], by=by), *by)
    # then the staff see every cell
    assert staff[(date(2024, 3, 1), "dibao", "500105001001")] == 4
    assert staff[(date(2024, 4, 1), "dibao", "500105001001")] == 1
    # and the analyst sees the aggregate over 4 people suppressed, over 5 shown
    assert analyst[(date(2024, 3, 1), "dibao", "500105001001")] is None
    assert analyst[(date(2024, 4, 1), "dibao", "500105001001")] is None
    assert analyst[(date(2024, 3, 1), "left_behind_elder", "500105001001")] == 5
    assert analyst[(date(2024, 3, 1), "dibao", "500105001002")] == 7


def test_f28_sums_poverty_alleviation_person_times(place, served):
    assert f28_poverty_person_times(place["city"], date(2024, 1, 1), date(2024, 12, 31)) == 7
    assert f28_poverty_person_times(place["worker"], date(2024, 1, 1), date(2024, 12, 31)) == 0
    assert f28_poverty_person_times(place["city"], date(2024, 4, 1), date(2024, 12, 31)) == 0


def test_the_stats_page_for_the_county_and_the_analyst(client, place, served):
    # given the county user
    client.force_login(place["county"])
    # when they open the statistics by target group
    response = client.get(reverse("casework:stats"), {"by": "target_group"})
    # then the table holds the groups and the total
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="person-times-chart"' in html
    assert 'data-testid="total">17<' in html
    # and the analyst sees the dibao April cell (1) suppressed
    client.force_login(place["analyst"])
    response = client.get(reverse("casework:stats"), {"by": "target_group", "area": "500105"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "&lt;5" in html
    assert 'data-testid="suppression-note"' in html
    # and the export answers an .xlsx
    response = client.get(reverse("casework:stats"), {"by": "domain", "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_person_times_api_suppresses_for_the_analyst(client, place, served):
    client.force_login(place["analyst"])
    response = client.get(
        reverse("api:get_person_times"), {"by": "month,target_group,community", "area": "500105"}
    )
    assert response.status_code == 200
    cells = {
        (r["month"], r["target_group"], r["community"]): r["person_times"]
        for r in response.json()["rows"]
    }
    assert cells[("2024-03", "dibao", "500105001001")] is None
    assert cells[("2024-03", "left_behind_elder", "500105001001")] == 5
    bad = client.get(reverse("api:get_person_times"), {"by": "name"})
    assert bad.status_code == 422


def test_a_projects_outputs_are_computed_from_its_service_records(place):
    # given a running project of the station with a monthly report of 120 person-times
    project = Project.objects.create(
        code="P-1",
        name="长者关爱",
        purchase_model="project",
        focus="special_groups",
        area=place["station"].division,
        purchaser=place["station"],
        starts_on=date(2024, 1, 1),
        ends_on=date(2024, 12, 31),
        budget=Decimal("100000"),
        stage="in_progress",
        kpi_person_times=1000,
    )
    MonthlyReport.objects.create(
        project=project, month=date(2024, 3, 1), summary="月报", reported_person_times=120
    )
    # when nothing names the project yet, its outputs are as reported
    kpis = {k["kpi"]: k for k in kpis_vs_reported(project=project)}
    assert (kpis["person_times"]["output"], kpis["person_times"]["source"]) == (120, "reported")
    # when services are recorded for the project (one resident three times, a talk to 40)
    person = make_resident("项目居民", "500105001001", 950)
    for day in (1, 2, 3):
        visit(place, served_on=date(2024, 5, day), residents=[person], project=project)
    visit(
        place,
        served_on=date(2024, 5, 4),
        residents=[],
        headcount=40,
        project=project,
        method="community",
    )
    # then the outputs are computed from the records: 43 person-times, 0 cases
    kpis = {k["kpi"]: k for k in kpis_vs_reported(project=project)}
    assert kpis["person_times"]["output"] == 43
    assert kpis["person_times"]["source"] == "computed"
    assert kpis["person_times"]["reported"] == 120
    assert kpis["cases"]["output"] == 0


def test_a_record_cannot_name_a_project_that_is_not_under_way(place):
    from django.core.exceptions import ValidationError

    project = Project.objects.create(
        code="P-2",
        name="申请中",
        purchase_model="project",
        focus="special_groups",
        area=place["station"].division,
        purchaser=place["station"],
        starts_on=date(2024, 1, 1),
        ends_on=date(2024, 12, 31),
        budget=Decimal("1000"),
        stage="application",
    )
    with pytest.raises(ValidationError) as caught:
        visit(place, project=project)
    assert "project" in caught.value.message_dict


def test_small_counts_are_suppressed_together_for_the_analyst(client, place, served):
    # given the analyst: a suppressed cell hides its records too
    by = ("month", "target_group", "community")
    for row in person_times(place["analyst"], by=by):
        assert (row["person_times"] is None) == (row["records"] is None)
    # and on the page no total gives a suppressed cell back by subtraction: the dibao row
    # of the county (11 in March, shown; 1 in April, suppressed) totals the 11 shown
    client.force_login(place["analyst"])
    response = client.get(reverse("casework:stats"), {"by": "target_group", "area": "500105"})
    table = response.context["table"]
    dibao = next(row for row in table if row["key"] == "dibao")
    shown = [c for c in dibao["cells"] if c is not None]
    assert dibao["cells"].count(None) == 1 and dibao["total"] == sum(shown) == 11
    assert response.context["total"] == sum(
        c for row in table for c in row["cells"] if c is not None
    )
