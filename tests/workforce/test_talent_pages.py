"""The honours, universities and dispatches pages: each lists what is in the user's area and
nothing outside it; each form writes through its service (audited) and a bad submission is
shown again with its error and what was typed, writing nothing; exports are real .xlsx
without national IDs; a national ID typed into a form never comes back in a page."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division, PovertyDesignation, PovertyKind
from shegong.geo.services import poverty_designate
from shegong.network.services import facility_create
from shegong.workforce.models import (
    Award,
    AwardScheme,
    DegreeProgramme,
    Dispatch,
    GraduateCohort,
    InnovationBase,
    University,
)
from shegong.workforce.services import (
    award_create,
    award_scheme_create,
    degree_programme_add,
    dispatch_create,
    graduate_cohort_record,
    innovation_base_add,
    social_worker_create,
    university_create,
)
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db

JIANGBEI = "500105"  # 江北区: the county user's area
HUAXIN = "500105001001"  # a community of 华新街街道, 江北区
JIULONGPO = "500107"  # 九龙坡区: outside the county user's area
CHENGKOU = "500229"  # 城口县, a poor county
BASHAN = "500229102"  # 巴山镇, in 城口县
HONOURS = reverse("workforce:honours")
UNIVERSITIES = reverse("workforce:universities")
DISPATCHES = reverse("workforce:dispatches")
TODAY = timezone.localdate()


def place(code: str) -> Division:
    return Division.objects.get(code=code)


def person(serial: int, name: str, code: str = HUAXIN):
    return social_worker_create(
        actor=None, name=name, national_id=national_id(serial), division=place(code)
    )


def signed_in(client, role: str, code: str):
    user = make_user(role, code)
    client.force_login(user)
    return user


def html(response) -> str:
    return response.content.decode()


def sheet_values(response) -> list[tuple]:
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


def audited(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- honours ---------------------------------------------------------------------------------


@pytest.fixture
def honoured():
    """A municipal award; 张三 (江北区) honoured in 2023 and 2024, 李四 (九龙坡区) in 2023."""
    scheme = award_scheme_create(
        actor=None,
        name="社会工作名师",
        level="municipal",
        category="famous_master",
        division=place("50"),
        reward_amount=5000,
    )
    zhang = person(1, "张三")
    li = person(2, "李四", JIULONGPO)
    award_create(actor=None, scheme=scheme, worker=zhang, year=2023, paid_on=date(2023, 6, 1))
    award_create(actor=None, scheme=scheme, worker=zhang, year=2024)
    award_create(actor=None, scheme=scheme, worker=li, year=2023)
    return {"scheme": scheme, "zhang": zhang, "li": li}


def test_honours_page_lists_people_honoured_in_the_area_only(client, honoured):
    # given a county user of 江北区
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    # when they open the honours page
    response = client.get(HONOURS)
    # then 张三's awards are listed with a link to his page, 李四 is not there
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = html(response)
    assert "张三" in page
    assert reverse("workforce:worker", args=[honoured["zhang"].pk]) in page
    assert "李四" not in page
    # and the summary counts 1 person, 2 awards, 10,000 yuan of which 5,000 paid (F18: 1)
    summary = response.context["summary"]
    assert [(r["people"], r["awards"], r["total"], r["paid"]) for r in summary] == [
        (1, 2, Decimal("10000.00"), Decimal("5000.00"))
    ]
    assert response.context["figures"]["F18"] == 1
    assert response.context["figures"]["F20"] == Decimal("10000.00")
    # and a county user sees no creation forms
    assert response.context["scheme_form"] is None
    assert response.context["award_form"] is None


def test_honours_filter_by_year_and_sort_by_year(client, honoured):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they filter by 2023
    response = client.get(HONOURS, {"year": 2023})
    # then only 2023's awards are listed (both people)
    assert sorted(a.worker.name for a in response.context["page"].object_list) == ["张三", "李四"]
    assert {a.year for a in response.context["page"].object_list} == {2023}
    # when they sort by year ascending
    response = client.get(HONOURS, {"sort": "year"})
    # then 2023 comes first
    assert [a.year for a in response.context["page"].object_list] == [2023, 2023, 2024]
    # and by default the newest year comes first
    response = client.get(HONOURS, {"scheme": honoured["scheme"].pk})
    assert [a.year for a in response.context["page"].object_list] == [2024, 2023, 2023]


def test_honours_empty_state(client):
    # given nobody honoured
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    # when the page is opened
    response = client.get(HONOURS)
    # then it says so
    assert 'data-testid="empty-list"' in html(response)
    assert 'data-testid="no-summary"' in html(response)


def test_honours_export_is_a_workbook_with_names_and_no_ids(client, honoured):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    before = audited("award.export")
    # when they export 2023's awards
    response = client.get(HONOURS, {"year": 2023, "format": "xlsx"})
    # then the workbook has a header and one row per award, by name, without any national ID
    rows = sheet_values(response)
    assert len(rows[0]) == 6 and all(rows[0])  # the header row
    assert sorted(r[0] for r in rows[1:]) == ["张三", "李四"]
    cells = " ".join(str(c) for r in rows for c in r)
    assert national_id(1) not in cells and national_id(2) not in cells
    assert audited("award.export") == before + 1


def test_analyst_sees_the_figures_but_not_the_people(client, honoured):
    # given an analyst (aggregates only)
    signed_in(client, Role.ANALYST, "50")
    # when they open the page and try the export
    response = client.get(HONOURS)
    export = client.get(HONOURS, {"format": "xlsx"})
    # then the figures are there, the names are not, and the export is refused
    assert response.status_code == 200
    assert response.context["figures"]["honoured"] == 2
    assert "张三" not in html(response)
    assert export.status_code == 403


def test_city_creates_an_award_scheme(client):
    # given the city administrator
    user = signed_in(client, Role.CITY_ADMIN, "50")
    # when they submit the award form
    response = client.post(
        HONOURS,
        {
            "form": "scheme",
            "name": "杰出人才贡献奖",
            "level": "municipal",
            "category": "outstanding_contribution",
            "reward_amount": "20000",
        },
    )
    # then the award is created through the service, conferred by the city, and audited
    assert response.status_code == 302
    scheme = AwardScheme.objects.get(name="杰出人才贡献奖")
    assert scheme.division == user.division
    assert scheme.reward_amount == Decimal("20000.00")
    assert AuditEvent.objects.filter(action="award_scheme.create", object_id=str(scheme.pk))


def test_a_negative_standard_reward_is_refused_with_the_input_kept(client):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they submit a negative reward
    response = client.post(
        HONOURS,
        {
            "form": "scheme",
            "name": "负数奖",
            "level": "county",
            "category": "other",
            "reward_amount": "-5",
        },
    )
    # then the page comes back with the error and what was typed; nothing is written
    assert response.status_code == 422
    form = response.context["scheme_form"]
    assert "reward_amount" in form.errors
    assert 'value="负数奖"' in html(response)
    assert not AwardScheme.objects.filter(name="负数奖").exists()
    # and the other form stays empty
    assert not response.context["award_form"].is_bound


def test_a_county_user_cannot_create_a_scheme(client):
    # given a county user
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    # when they post the award form anyway
    response = client.post(
        HONOURS, {"form": "scheme", "name": "县奖", "level": "county", "reward_amount": "0"}
    )
    # then it is refused and nothing is written
    assert response.status_code == 403
    assert not AwardScheme.objects.filter(name="县奖").exists()


def test_city_honours_a_person_found_by_national_id(client, honoured):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    number = national_id(1)
    # when they honour 张三 by national ID for 2022
    response = client.post(
        HONOURS,
        {
            "form": "award",
            "scheme": honoured["scheme"].pk,
            "national_id": number,
            "year": 2022,
            "paid_on": "2022-12-01",
        },
        follow=True,
    )
    # then the award is recorded with the standard reward, audited, and the ID is nowhere
    award = Award.objects.get(worker=honoured["zhang"], year=2022)
    assert award.reward_amount == Decimal("5000.00")
    assert award.paid_on == date(2022, 12, 1)
    assert AuditEvent.objects.filter(action="award.create", object_id=str(award.pk)).exists()
    assert response.redirect_chain[-1][0] == HONOURS
    assert number not in html(response)


@pytest.mark.parametrize(
    ("serial", "extra", "field"),
    [
        (99, {}, "national_id"),  # nobody registered with this ID
        (1, {"paid_on": (TODAY + timedelta(days=5)).isoformat()}, "paid_on"),  # future
        (1, {"reward_amount": "-1"}, "reward_amount"),  # negative
    ],
)
def test_a_bad_honour_is_refused_without_echoing_the_id(client, honoured, serial, extra, field):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    number = national_id(serial)
    awards = Award.objects.count()
    # when they submit a bad honour
    response = client.post(
        HONOURS,
        {
            "form": "award",
            "scheme": honoured["scheme"].pk,
            "national_id": number,
            "year": "2021",
            **extra,
        },
    )
    # then the form comes back with the error and the year typed, but never the ID
    assert response.status_code == 422
    assert field in response.context["award_form"].errors
    assert 'value="2021"' in html(response)
    assert number not in html(response)
    assert Award.objects.count() == awards


# --- universities ----------------------------------------------------------------------------


@pytest.fixture
def campuses():
    """A university in 江北区 with a programme, a base and graduates; one in 九龙坡区."""
    north = university_create(actor=None, name="江北大学", division=place(JIANGBEI))
    degree_programme_add(
        actor=None, university=north, level="bachelor", name="社会工作", since_year=2010
    )
    innovation_base_add(
        actor=None,
        university=north,
        name="社工创新基地",
        funded_amount=300000,
        first_year=2020,
        last_year=2024,
    )
    graduate_cohort_record(actor=None, university=north, year=2022, level="bachelor", graduates=80)
    graduate_cohort_record(actor=None, university=north, year=2023, level="bachelor", graduates=95)
    west = university_create(actor=None, name="九龙坡学院", division=place(JIULONGPO))
    graduate_cohort_record(actor=None, university=west, year=2023, level="master", graduates=9)
    return {"north": north, "west": west}


def test_universities_page_lists_the_area_with_the_latest_year_by_default(client, campuses):
    # given a county user of 江北区
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    # when they open the page without a year
    response = client.get(UNIVERSITIES)
    # then the year is the latest with graduates, and only 江北大学 is listed
    assert response.status_code == 200
    assert response.context["year"] == 2023
    page = html(response)
    assert "江北大学" in page and "社会工作" in page and "社工创新基地" in page
    assert "九龙坡学院" not in page
    assert response.context["summary"]["F9"] == 1
    assert response.context["summary"]["F10"] == 1
    assert response.context["summary"]["F11"] == 95
    # and another year can be chosen
    assert client.get(UNIVERSITIES, {"year": 2022}).context["summary"]["F11"] == 80
    # and there are no forms for a county
    assert response.context["university_form"] is None


def test_universities_empty_state_defaults_to_this_year(client):
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    response = client.get(UNIVERSITIES)
    assert response.context["year"] == TODAY.year
    assert 'data-testid="empty-list"' in html(response)


def test_universities_export_is_a_workbook(client, campuses):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they export 2023
    rows = sheet_values(client.get(UNIVERSITIES, {"year": 2023, "format": "xlsx"}))
    # then each university is a row with its programmes, bases, funding and graduates
    by_name = {r[0]: r for r in rows[1:]}
    assert set(by_name) == {"江北大学", "九龙坡学院"}
    north = by_name["江北大学"]
    assert north[1] == JIANGBEI
    assert "社会工作" in north[3] and "社工创新基地" in north[4]
    assert north[5] == 300000
    assert north[6:] == (95, 175)


def test_city_adds_a_university_programme_base_and_graduates(client):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they add a university, then its programme, base and graduates
    assert (
        client.post(
            UNIVERSITIES, {"form": "university", "name": "重庆社工学院", "division": JIANGBEI}
        ).status_code
        == 302
    )
    university = University.objects.get(name="重庆社工学院")
    posts = [
        {
            "form": "programme",
            "university": university.pk,
            "level": "master",
            "name": "社会工作硕士",
            "since_year": "2015",
        },
        {
            "form": "base",
            "university": university.pk,
            "name": "基地",
            "funded_amount": "100000",
            "first_year": "2023",
            "last_year": "2025",
        },
        {
            "form": "cohort",
            "university": university.pk,
            "year": "2023",
            "level": "master",
            "graduates": "30",
        },
    ]
    for data in posts:
        assert client.post(UNIVERSITIES, data).status_code == 302
    # then each was written through its service and audited
    assert university.division.code == JIANGBEI
    programme = DegreeProgramme.objects.get(university=university)
    base = InnovationBase.objects.get(university=university)
    cohort = GraduateCohort.objects.get(university=university)
    assert (programme.level, programme.since_year) == ("master", 2015)
    assert base.funded_amount == Decimal("100000.00")
    assert cohort.graduates == 30
    for action, obj in (
        ("university.create", university),
        ("degree_programme.add", programme),
        ("innovation_base.add", base),
        ("graduate_cohort.record", cohort),
    ):
        assert AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).exists(), action


def test_a_bad_base_stays_on_its_form_and_writes_nothing(client, campuses):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they submit a base with negative funding
    response = client.post(
        UNIVERSITIES,
        {
            "form": "base",
            "university": campuses["north"].pk,
            "name": "负基地",
            "funded_amount": "-10",
            "first_year": "2023",
            "last_year": "2024",
        },
    )
    # then the base form shows the error and what was typed; the other forms are empty
    assert response.status_code == 422
    assert "funded_amount" in response.context["base_form"].errors
    assert 'value="负基地"' in html(response)
    for other in ("university_form", "programme_form", "cohort_form"):
        assert not response.context[other].is_bound
    assert not InnovationBase.objects.filter(name="负基地").exists()


def test_a_university_outside_the_area_or_unknown_division_is_refused(client):
    # given a city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they give a division code outside the city (成都)
    response = client.post(
        UNIVERSITIES, {"form": "university", "name": "外地大学", "division": "510104"}
    )
    # then the form says so and nothing is written
    assert response.status_code == 422
    assert "division" in response.context["university_form"].errors
    assert 'value="外地大学"' in html(response)
    assert not University.objects.filter(name="外地大学").exists()


def test_graduates_of_a_future_year_are_refused(client, campuses):
    signed_in(client, Role.CITY_ADMIN, "50")
    response = client.post(
        UNIVERSITIES,
        {
            "form": "cohort",
            "university": campuses["north"].pk,
            "year": TODAY.year + 1,
            "level": "bachelor",
            "graduates": "10",
        },
    )
    assert response.status_code == 422
    assert "year" in response.context["cohort_form"].errors
    assert not GraduateCohort.objects.filter(year=TODAY.year + 1).exists()


def test_a_county_user_cannot_add_a_university(client):
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    response = client.post(
        UNIVERSITIES, {"form": "university", "name": "县大学", "division": JIANGBEI}
    )
    assert response.status_code == 403
    assert not University.objects.filter(name="县大学").exists()


def test_a_post_without_a_known_form_is_refused(client):
    signed_in(client, Role.CITY_ADMIN, "50")
    assert client.post(UNIVERSITIES, {"form": "nonsense"}).status_code == 403
    assert client.post(UNIVERSITIES, {}).status_code == 403


# --- dispatches ------------------------------------------------------------------------------


@pytest.fixture
def sent():
    """城口县 a poor county since 2014; 张三 (江北区) there since 2023-03-01, and earlier for
    half of 2022; 李四 (九龙坡区) there since 2023-05-01."""
    county = poverty_designate(
        actor=None,
        division=place(CHENGKOU),
        kind=PovertyKind.POOR_COUNTY,
        designated_on=date(2014, 1, 1),
        document="渝府发〔2014〕1号",
    )
    zhang, li = person(1, "张三"), person(2, "李四", JIULONGPO)

    def send(worker, starts_on, ends_on=None):
        return dispatch_create(
            actor=None,
            worker=worker,
            host_division=place(BASHAN),
            starts_on=starts_on,
            ends_on=ends_on,
            purpose="驻村服务",
        )

    return {
        "county": county,
        "zhang": zhang,
        "li": li,
        "current": send(zhang, date(2023, 3, 1)),
        "past": send(zhang, date(2022, 1, 1), date(2022, 6, 1)),
        "li_current": send(li, date(2023, 5, 1)),
    }


def test_dispatches_page_lists_the_area_only(client, sent):
    # given a county user of 江北区
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    # when they open the page
    response = client.get(DISPATCHES)
    # then 张三's dispatches are listed with a link to his page; 李四's are not
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    listed = {row["row"].pk for row in response.context["rows"]}
    assert listed == {sent["current"].pk, sent["past"].pk}
    page = html(response)
    assert reverse("workforce:worker", args=[sent["zhang"].pk]) in page
    assert "李四" not in page
    # and F26 counts 张三 once; 城口县 lies outside 江北区, so no designation is listed
    assert response.context["summary"]["F26"] == 1
    assert 'data-testid="no-designations"' in page
    # and only the open dispatch can be ended
    assert page.count('data-testid="end-dispatch"') == 1
    assert reverse("workforce:dispatch_end", args=[sent["current"].pk]) in page


def test_dispatches_filter_by_year_and_active_today(client, sent):
    signed_in(client, Role.CITY_ADMIN, "50")
    # when filtered on 2022, then only the 2022 dispatch; active today: the two open ones
    response = client.get(DISPATCHES, {"year": 2022})
    assert [r["row"].pk for r in response.context["rows"]] == [sent["past"].pk]
    response = client.get(DISPATCHES, {"active": "1"})
    assert {r["row"].pk for r in response.context["rows"]} == {
        sent["current"].pk,
        sent["li_current"].pk,
    }
    # and the city sees 城口县's designation with a lift action
    page = html(response)
    assert "城口县" in page and "渝府发〔2014〕1号" in page
    assert reverse("workforce:designation_lift", args=[sent["county"].pk]) in page
    assert response.context["summary"]["poor_counties"] == 1


def test_dispatches_empty_state(client):
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    response = client.get(DISPATCHES)
    assert 'data-testid="empty-list"' in html(response)


def test_dispatches_export_is_a_workbook_without_ids(client, sent):
    # given a county user
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    before = audited("dispatch.export")
    # when they export
    rows = sheet_values(client.get(DISPATCHES, {"format": "xlsx"}))
    # then there is one row per dispatch in the area, by name, and no national ID
    assert [r[0] for r in rows[1:]] == ["张三", "张三"]
    assert {r[2] for r in rows[1:]} == {BASHAN}
    cells = " ".join(str(c) for r in rows for c in r)
    assert national_id(1) not in cells
    assert audited("dispatch.export") == before + 1


def test_county_sends_a_person_to_a_poor_county_outside_its_area(client, sent):
    # given a county user of 江北区, 王五 registered there and a station as home facility
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    wang = person(3, "王五")
    station = facility_create(
        actor=None,
        tier="station",
        division=place("500105001"),
        name="华新街社工站",
        status="operating",
        status_from=date(2020, 1, 1),
    )
    number = national_id(3)
    # when they send 王五 to 巴山镇 (in 城口县, outside their area)
    response = client.post(
        DISPATCHES,
        {
            "form": "dispatch",
            "national_id": number,
            "host_division": BASHAN,
            "home_facility": station.pk,
            "starts_on": "2024-01-01",
            "ends_on": "2024-12-31",
            "purpose": "驻镇服务",
        },
        follow=True,
    )
    # then the dispatch is written through the service, audited, and the ID is nowhere
    dispatch = Dispatch.objects.get(worker=wang)
    assert dispatch.host_division.code == BASHAN
    assert dispatch.home_facility == station
    assert dispatch.ends_on == date(2024, 12, 31)
    assert AuditEvent.objects.filter(action="dispatch.create", object_id=str(dispatch.pk))
    assert response.redirect_chain[-1][0] == DISPATCHES
    assert number not in html(response)


@pytest.mark.parametrize(
    ("serial", "host", "extra", "field"),
    [
        (3, "500105002", {}, "host_division"),  # 江北区's 石马河街道: not designated
        (99, BASHAN, {}, "national_id"),  # nobody registered with this ID
        (3, "999999", {}, "host_division"),  # no such division
        (3, BASHAN, {"ends_on": "2023-12-31"}, "ends_on"),  # ends before it starts
    ],
)
def test_a_bad_dispatch_is_refused_without_echoing_the_id(client, sent, serial, host, extra, field):
    # given a county user and 王五 registered in 江北区
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    person(3, "王五")
    number = national_id(serial)
    count = Dispatch.objects.count()
    # when they submit a bad dispatch
    response = client.post(
        DISPATCHES,
        {
            "form": "dispatch",
            "national_id": number,
            "host_division": host,
            "starts_on": "2024-01-01",
            "purpose": "驻点试试",
            **extra,
        },
    )
    # then the form comes back with the error and the purpose typed, never the ID
    assert response.status_code == 422
    assert field in response.context["dispatch_form"].errors
    assert 'value="驻点试试"' in html(response)
    assert number not in html(response)
    assert Dispatch.objects.count() == count


def test_a_host_facility_outside_the_host_area_is_refused(client, sent):
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    person(3, "王五")
    elsewhere = facility_create(
        actor=None,
        tier="room",
        division=place(HUAXIN),
        name="华新社工室",
        status="operating",
        status_from=date(2020, 1, 1),
    )
    response = client.post(
        DISPATCHES,
        {
            "form": "dispatch",
            "national_id": national_id(3),
            "host_division": BASHAN,
            "host_facility": elsewhere.pk,
            "starts_on": "2024-01-01",
            "purpose": "驻点",
        },
    )
    assert "host_facility" in response.context["dispatch_form"].errors
    assert not Dispatch.objects.filter(worker__name="王五").exists()


def test_a_station_user_may_not_dispatch(client, sent):
    signed_in(client, Role.STATION_STAFF, "500105001")
    response = client.post(DISPATCHES, {"form": "dispatch", "national_id": national_id(1)})
    assert response.status_code == 403


def test_ending_a_dispatch(client, sent):
    # given a county user and 张三's open dispatch
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    url = reverse("workforce:dispatch_end", args=[sent["current"].pk])
    # when they open the confirmation, then end it yesterday
    assert client.get(url).status_code == 200
    response = client.post(url, {"ended_on": (TODAY - timedelta(days=1)).isoformat()})
    # then the dispatch has ended, the record is kept and the change audited
    assert response.status_code == 302
    sent["current"].refresh_from_db()
    assert sent["current"].ends_on == TODAY - timedelta(days=1)
    assert AuditEvent.objects.filter(action="dispatch.end", object_id=str(sent["current"].pk))


def test_ending_a_dispatch_in_the_future_is_refused(client, sent):
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    url = reverse("workforce:dispatch_end", args=[sent["current"].pk])
    response = client.post(url, {"ended_on": (TODAY + timedelta(days=3)).isoformat()})
    assert response.status_code == 422
    assert "ended_on" in response.context["form"].errors
    sent["current"].refresh_from_db()
    assert sent["current"].ends_on is None


def test_ending_a_dispatch_needs_the_permission_and_the_scope(client, sent):
    # a room worker may see dispatches but not end them
    signed_in(client, Role.ROOM_WORKER, HUAXIN)
    url = reverse("workforce:dispatch_end", args=[sent["current"].pk])
    assert client.post(url, {"ended_on": TODAY.isoformat()}).status_code == 403
    # a county user of 江北区 cannot reach 李四's (九龙坡区 → 城口县)
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    other = reverse("workforce:dispatch_end", args=[sent["li_current"].pk])
    assert client.post(other, {"ended_on": TODAY.isoformat()}).status_code == 404
    sent["current"].refresh_from_db()
    sent["li_current"].refresh_from_db()
    assert sent["current"].ends_on is None and sent["li_current"].ends_on is None


def test_lifting_a_designation(client, sent):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    url = reverse("workforce:designation_lift", args=[sent["county"].pk])
    # when they confirm the lifting on 2021-01-01
    assert client.get(url).status_code == 200
    response = client.post(url, {"lifted_on": "2021-01-01"})
    # then it is lifted, kept, and audited
    assert response.status_code == 302
    sent["county"].refresh_from_db()
    assert sent["county"].lifted_on == date(2021, 1, 1)
    assert AuditEvent.objects.filter(
        action="poverty_designation.lift", object_id=str(sent["county"].pk)
    ).exists()


def test_lifting_a_designation_is_refused_without_the_permission(client, sent):
    signed_in(client, Role.COUNTY_STAFF, CHENGKOU)
    url = reverse("workforce:designation_lift", args=[sent["county"].pk])
    assert client.post(url, {"lifted_on": "2021-01-01"}).status_code == 403
    sent["county"].refresh_from_db()
    assert sent["county"].lifted_on is None


def test_city_designates_a_deep_poverty_town(client):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they designate 巴山镇
    response = client.post(
        DISPATCHES,
        {
            "form": "designation",
            "division": BASHAN,
            "kind": "deep_poverty_town",
            "designated_on": "2017-06-01",
            "document": "渝扶贫〔2017〕3号",
        },
    )
    # then the designation is written and audited
    assert response.status_code == 302
    designation = PovertyDesignation.objects.get(division__code=BASHAN)
    assert designation.kind == PovertyKind.DEEP_POVERTY_TOWN
    assert AuditEvent.objects.filter(
        action="poverty_designation.designate", object_id=str(designation.pk)
    ).exists()


def test_a_future_or_wrong_level_designation_is_refused(client):
    signed_in(client, Role.CITY_ADMIN, "50")
    future = (TODAY + timedelta(days=10)).isoformat()
    response = client.post(
        DISPATCHES,
        {
            "form": "designation",
            "division": BASHAN,
            "kind": "deep_poverty_town",
            "designated_on": future,
            "document": "未来文件",
        },
    )
    assert "designated_on" in response.context["designation_form"].errors
    assert 'value="未来文件"' in html(response)
    response = client.post(
        DISPATCHES,
        {
            "form": "designation",
            "division": BASHAN,
            "kind": "poor_county",
            "designated_on": "2017-01-01",
        },
    )
    assert "division" in response.context["designation_form"].errors
    assert not PovertyDesignation.objects.filter(division__code=BASHAN).exists()


def test_city_sets_a_population(client):
    # given the city administrator
    signed_in(client, Role.CITY_ADMIN, "50")
    # when they set 江北区's population, then a negative one
    ok = client.post(
        DISPATCHES, {"form": "population", "division": JIANGBEI, "population": "925000"}
    )
    bad = client.post(DISPATCHES, {"form": "population", "division": JIANGBEI, "population": "-3"})
    # then the first is saved and audited; the second is refused with its value kept
    assert ok.status_code == 302
    assert place(JIANGBEI).population == 925000
    assert AuditEvent.objects.filter(
        action="division.set_population", object_id=str(place(JIANGBEI).pk)
    ).exists()
    assert bad.status_code == 422
    assert "population" in bad.context["population_form"].errors
    assert 'value="-3"' in html(bad)


def test_a_county_user_may_not_designate_or_set_populations(client):
    signed_in(client, Role.COUNTY_STAFF, JIANGBEI)
    response = client.post(
        DISPATCHES,
        {
            "form": "designation",
            "division": "500105001",
            "kind": "deep_poverty_town",
            "designated_on": "2017-01-01",
        },
    )
    assert response.status_code == 403
    response = client.post(
        DISPATCHES, {"form": "population", "division": JIANGBEI, "population": "1"}
    )
    assert response.status_code == 403
    assert not PovertyDesignation.objects.filter(division__code="500105001").exists()
