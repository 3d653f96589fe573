"""Project pages: the list with its counts (F29), filters and Excel export; a project's
page with its timeline, payments, KPIs against reported outputs and evaluations; scope,
and agency staff seeing their own projects only."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shegong.core.roles import Role
from shegong.projects.models import Stage

pytestmark = pytest.mark.django_db


def test_the_list_counts_livelihood_projects_and_filters(client, people, build):
    # given two special-groups projects (one rejected) and a governance project
    build(Stage.IN_PROGRESS, code="XM-A")
    build(Stage.REJECTED, code="XM-B")
    build(Stage.APPLICATION, code="XM-C", focus="governance")
    client.force_login(people[Role.COUNTY_STAFF])
    # when the county opens the list
    response = client.get(reverse("projects:list"))
    html = response.content.decode()
    # then F29 counts the special-groups projects that were not rejected
    assert 'data-testid="f29">1<' in html
    assert 'data-testid="total">3<' in html
    # and a filter narrows the list
    governance = client.get(reverse("projects:list"), {"focus": "governance"}).content.decode()
    assert "XM-C" in governance and "XM-A" not in governance


def test_the_list_exports_to_excel(client, people, build):
    build(Stage.CONTRACT, code="XM-X")
    client.force_login(people[Role.COUNTY_STAFF])
    response = client.get(reverse("projects:list"), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[1][0] == "XM-X"


def test_a_project_page_shows_its_life_cycle_and_evaluations(client, people, build):
    # given a closed project (mid-term and final evaluations, 80 points everywhere)
    project = build(Stage.CLOSED, code="XM-Z")
    client.force_login(people[Role.COUNTY_STAFF])
    # when its page is opened
    html = client.get(reverse("projects:detail", args=[project.pk])).content.decode()
    # then the timeline has every step, and both evaluations show their total and grade
    assert html.count("<li>") >= 8
    assert 'data-testid="evaluation-midterm"' in html and 'data-testid="evaluation-final"' in html
    assert "80.00" in html
    assert 'data-testid="kpis"' in html


def test_agency_staff_see_their_own_projects_only(client, people, build, net):
    ours = build(Stage.IN_PROGRESS, code="XM-OURS", agency=net["agency"])
    theirs = build(Stage.IN_PROGRESS, code="XM-THEIRS", agency=net["other_agency"])
    client.force_login(people[Role.AGENCY_STAFF])
    html = client.get(reverse("projects:list")).content.decode()
    assert "XM-OURS" in html and "XM-THEIRS" not in html
    assert client.get(reverse("projects:detail", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("projects:detail", args=[ours.pk])).status_code == 200


def test_a_project_of_another_county_is_404(client, people, build):
    project = build(Stage.APPLICATION, code="XM-JB")
    client.force_login(people["other_county"])
    assert client.get(reverse("projects:detail", args=[project.pk])).status_code == 404


def test_the_project_page_exports_its_tables(client, people, build):
    project = build(Stage.CLOSED, code="XM-XL")
    client.force_login(people[Role.COUNTY_STAFF])
    response = client.get(reverse("projects:detail", args=[project.pk]), {"format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    values = [row[1] for row in rows]
    assert "XM-XL" in values
    assert any(row[1] == 80.0 for row in rows)  # an evaluation's total


def test_the_list_filters_by_agency(client, people, build, net):
    build(Stage.IN_PROGRESS, code="XM-A1", agency=net["agency"])
    build(Stage.IN_PROGRESS, code="XM-A2", agency=net["other_agency"])
    client.force_login(people[Role.COUNTY_STAFF])
    html = client.get(reverse("projects:list"), {"agency": net["agency"].pk}).content.decode()
    assert "XM-A1" in html and "XM-A2" not in html


def test_the_list_sorts_by_a_header_and_shows_the_stage_as_a_tag(client, people, build):
    # given two projects
    build(Stage.IN_PROGRESS, code="XM-S1")
    build(Stage.REJECTED, code="XM-S2")
    client.force_login(people[Role.COUNTY_STAFF])
    # when the county sorts the list by code, descending
    response = client.get(reverse("projects:list"), {"sort": "-code"})
    # then XM-S2 comes first, and each stage is a status tag
    codes = [row["row"].code for row in response.context["rows"]]
    assert codes[:2] == ["XM-S2", "XM-S1"]
    html = response.content.decode()
    assert 'class="tag tag-bad">未通过<' in html or 'class="tag tag-bad">Not approved<' in html
