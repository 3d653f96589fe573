"""The workforce pages: the registry (search by name, certificate number and exact national
ID that never reaches a URL; filters; sorting; .xlsx export with masked IDs), a person's page
(postings, continuing education, access logged), and the dashboard's figures."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.network.services import facility_create
from shegong.workforce.ce import ce_current
from shegong.workforce.models import (
    Award,
    AwardScheme,
    ContinuingEducation,
    Course,
    Dispatch,
    Education,
    Enrolment,
    Posting,
    QualificationLevel,
    RegistrationPeriod,
    RegistrationStatus,
    SocialWorker,
    WorkplaceType,
)
from shegong.workforce.selectors import (
    ce_compliance_summary,
    grassroots_professionals,
    headcount_by_child,
    headcount_by_qualification,
    headcount_by_workplace,
    with_ce_status,
)
from shegong.workforce.services import posting_create, posting_end, social_worker_create
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db

TOWN = "500105001"  # 华新街街道, 江北区
TODAY = date.today()


def division(code: str) -> Division:
    return Division.objects.get(code=code)


def person(serial, name, code, level=QualificationLevel.NONE, **extra) -> SocialWorker:
    worker = social_worker_create(
        actor=None,
        name=name,
        national_id=national_id(serial),
        division=division(code),
        qualification_level=level,
        phone="13812345678",
    )
    if extra:
        SocialWorker.objects.filter(pk=worker.pk).update(**extra)
        worker.refresh_from_db()
    return worker


def registered(worker, hours=None) -> RegistrationPeriod:
    """A registration period around today, with ``hours`` of credits in it."""
    period = RegistrationPeriod.objects.create(
        worker=worker, starts_on=TODAY - timedelta(days=365), ends_on=TODAY + timedelta(days=730)
    )
    if hours:
        ContinuingEducation.objects.create(
            worker=worker, hours=Decimal(hours), completed_on=TODAY, title="课程"
        )
    return period


@pytest.fixture
def people() -> dict:
    """In 华新街街道: 张三 at the room (grassroots, CE complete), 李四 at the station
    (community service, CE short), 王五 at an agency (not registered); 钱七 elsewhere in
    江北区 without a posting; 赵六 in 渝中区, outside the county."""
    start = date(2020, 1, 1)
    station = facility_create(
        actor=None,
        tier="station",
        division=division(TOWN),
        name="华新街街道社工站",
        status="operating",
        status_from=date(2018, 1, 1),
    )
    room = facility_create(
        actor=None,
        tier="room",
        division=division("500105001001"),
        name="桥北社区社工室",
        status="operating",
        status_from=start,
    )
    zhang = person(
        501,
        "张三",
        "500105001001",
        QualificationLevel.ASSISTANT,
        certificate_number="A2019001",
        qualification_year=2019,
    )
    li = person(502, "李四", TOWN, QualificationLevel.SOCIAL_WORKER)
    wang = person(503, "王五", "500105001002", QualificationLevel.SENIOR)
    qian = person(504, "钱七", "500105002")
    zhao = person(505, "赵六", "500103")
    posting_create(
        actor=None, worker=zhang, facility=room, employment="full_time", started_on=start
    )
    posting_create(
        actor=None,
        worker=zhang,
        facility=station,
        employment="part_time",
        started_on=date(2019, 1, 1),
        ended_on=date(2019, 12, 31),
    )
    posting_create(
        actor=None, worker=li, facility=station, employment="full_time", started_on=start
    )
    posting_create(
        actor=None,
        worker=wang,
        facility=None,
        workplace_name="江北区阳光社会工作服务中心",
        workplace_type=WorkplaceType.AGENCY,
        employment="full_time",
        started_on=start,
    )
    registered(zhang, hours=72)
    registered(li, hours=30)
    return {
        "station": station,
        "room": room,
        "zhang": zhang,
        "li": li,
        "wang": wang,
        "qian": qian,
        "zhao": zhao,
    }


@pytest.fixture
def county_client(client):
    client.force_login(make_user(Role.COUNTY_STAFF, "500105", username="county-wf"))
    return client


def names(response) -> list[str]:
    """The names in the registry table, in order."""
    html = response.content.decode()
    return re.findall(r'<tr data-worker="\d+"[^>]*>\s*<td[^>]*><a href="[^"]+">([^<]+)</a>', html)


# --- search --------------------------------------------------------------------------------


def test_search_by_name_goes_to_a_get_url(county_client, people):
    # when the county user searches a name through the form
    response = county_client.post("/workforce/workers/", {"q": "张"})
    # then they are sent to a GET URL with the name, which lists 张三 only
    assert response.status_code == 302
    assert response["Location"] == "/workforce/workers/?q=%E5%BC%A0"
    assert names(county_client.get(response["Location"])) == ["张三"]


def test_search_by_certificate_number_is_exact(county_client, people):
    # when they search the full certificate number, then only its holder is found
    assert names(county_client.get("/workforce/workers/", {"q": "A2019001"})) == ["张三"]
    # and a part of it finds nobody
    response = county_client.get("/workforce/workers/", {"q": "A2019"})
    assert names(response) == []
    assert 'data-testid="empty-list"' in response.content.decode()


def test_exact_id_search_never_puts_the_id_in_a_url_or_the_page(county_client, people):
    # given 李四's national ID
    number = national_id(502)
    before = AuditEvent.objects.filter(action="social_worker.search").count()
    # when the county user searches it through the form
    response = county_client.post("/workforce/workers/", {"q": number})
    # then the answer comes in the POST's response (no redirect to a URL holding the ID)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Location" not in response
    assert names(response) == ["李四"]
    # and the clear ID is nowhere in the page, only the masked one
    assert number not in html
    assert people["li"].national_id_masked in html
    assert response["Cache-Control"] == "no-store"
    # and the search is logged
    assert AuditEvent.objects.filter(action="social_worker.search").count() == before + 1


def test_an_id_outside_the_area_finds_nobody(county_client, people):
    response = county_client.post("/workforce/workers/", {"q": national_id(505)})
    assert names(response) == []
    assert national_id(505) not in response.content.decode()


def test_an_id_with_a_wrong_check_digit_is_not_echoed(county_client, people):
    # given an ID-shaped query whose check digit is wrong
    number = national_id(502)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    # when it is searched, then nobody is found and it appears neither in a URL nor the page
    response = county_client.post("/workforce/workers/", {"q": wrong})
    assert response.status_code == 200 and names(response) == []
    assert wrong not in response.content.decode()


def test_an_id_typed_into_the_address_bar_is_stripped(county_client, people):
    # when an ID arrives in a GET query string
    response = county_client.get("/workforce/workers/", {"q": national_id(502), "ce": "short"})
    # then the page redirects to the same filters without it
    assert response.status_code == 302
    assert response["Location"] == "/workforce/workers/?ce=short"


# --- filters and sorting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["张三", "李四", "王五", "钱七"]),
        ({"qualification": "assistant"}, ["张三"]),
        ({"qualification": "senior"}, ["王五"]),
        ({"workplace": "grassroots"}, ["张三"]),
        ({"workplace": "community_service"}, ["李四"]),
        ({"workplace": "agency"}, ["王五"]),
        ({"division": "500105001001"}, ["张三"]),
        ({"division": TOWN}, ["张三", "李四", "王五"]),
        ({"division": "500103"}, []),  # outside the county: nothing
        ({"ce": "complete"}, ["张三"]),
        ({"ce": "short"}, ["李四"]),
        ({"ce": "not_registered"}, ["王五", "钱七"]),
        ({"ce": "short", "qualification": "assistant"}, []),
    ],
)
def test_each_filter_narrows_the_list(county_client, people, query, expected):
    response = county_client.get("/workforce/workers/", {"sort": "division", **query})
    assert sorted(names(response)) == sorted(expected)


def test_facility_filter_lists_people_currently_posted_there(county_client, people):
    # 张三's posting at the station ended in 2019: only 李四 is there now
    response = county_client.get("/workforce/workers/", {"facility": people["station"].pk})
    assert names(response) == ["李四"]
    assert "华新街街道社工站" in response.content.decode()


def test_sorting(county_client, people):
    by_name = names(county_client.get("/workforce/workers/"))
    assert by_name == ["李四", "钱七", "王五", "张三"]  # pinyin: li, qian, wang, zhang
    by_level = names(county_client.get("/workforce/workers/", {"sort": "-qualification"}))
    assert by_level == ["王五", "李四", "张三", "钱七"]
    by_division = names(county_client.get("/workforce/workers/", {"sort": "division"}))
    assert by_division == ["李四", "张三", "王五", "钱七"]


def test_filters_sent_through_the_form_keep_their_values(county_client, people):
    response = county_client.post(
        "/workforce/workers/",
        {"q": "", "qualification": "assistant", "ce": "complete"},
        follow=True,
    )
    html = response.content.decode()
    assert names(response) == ["张三"]
    assert '<option value="assistant" selected>' in html


# --- export --------------------------------------------------------------------------------


def test_export_is_the_filtered_list_with_masked_ids_only(county_client, people):
    # when the county user exports the list of people in the town
    response = county_client.get("/workforce/workers/", {"division": TOWN, "format": "xlsx"})
    # then it is a real workbook with those three people
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == sorted(["张三", "李四", "王五"])
    # with masked IDs, and no clear ID or phone anywhere
    cells = " ".join(str(c) for row in rows for c in row if c is not None)
    assert people["zhang"].national_id_masked in cells
    for serial in (501, 502, 503):
        assert national_id(serial) not in cells
    assert "13812345678" not in cells
    assert AuditEvent.objects.filter(action="social_worker.export").count() == 1


# --- a person's page -----------------------------------------------------------------------


def test_person_page_shows_postings_and_ce_standing_and_is_logged(county_client, people):
    zhang = people["zhang"]
    Education.objects.create(
        worker=zhang,
        school="重庆大学",
        degree="bachelor",
        social_work_major=True,
        graduated_on=date(2010, 7, 1),
    )
    # when the county user opens 张三's page
    response = county_client.get(f"/workforce/workers/{zhang.pk}/")
    html = response.content.decode()
    # then the postings timeline lists both postings, the room linked, the current one marked
    assert response.status_code == 200
    assert f'href="/network/facilities/{people["room"].pk}/"' in html
    assert html.count("data-posting=") == 2
    assert re.search(r'data-posting="\d+" data-current="true">\s*<td><a[^>]*>桥北社区社工室', html)
    # and the current registration period: 72 required, 72 earned, nothing short
    # (the degree was before the period began, which is his first: it counts there)
    assert re.search(r"data-required>72<", html) and re.search(r"data-earned>72\.0<", html)
    assert re.search(r"data-degree>90<", html) and re.search(r"data-short>0<", html)
    # and personal data only masked
    assert national_id(501) not in html and "13812345678" not in html
    assert zhang.national_id_masked in html and "138****5678" in html
    assert response["Cache-Control"] == "no-store"
    # and empty training, honours and dispatches say so
    for testid in ("no-enrolments", "no-awards", "no-dispatches"):
        assert f'data-testid="{testid}"' in html
    # and the access is written to the audit trail
    event = AuditEvent.objects.filter(action="social_worker.view").get()
    assert (event.object_id, event.actor_username) == (str(zhang.pk), "county-wf")


def test_person_page_lists_training_honours_and_dispatches(county_client, people):
    li = people["li"]
    course = Course.objects.create(
        title="社区治理专题培训",
        audience="frontline",
        organiser="江北区民政局",
        starts_on=date(2024, 3, 1),
        ends_on=date(2024, 3, 3),
        hours=Decimal(24),
        division=division("500105"),
    )
    Enrolment.objects.create(course=course, worker=li, attended=True)
    scheme = AwardScheme.objects.create(
        name="优秀社工", level="county", reward_amount=Decimal(2000), division=division("500105")
    )
    Award.objects.create(scheme=scheme, worker=li, year=2023, reward_amount=Decimal(2000))
    Dispatch.objects.create(
        worker=li,
        home_facility=people["station"],
        host_division=division("500243"),
        starts_on=date(2023, 1, 1),
        purpose="驻村服务",
    )
    html = county_client.get(f"/workforce/workers/{li.pk}/").content.decode()
    assert "社区治理专题培训" in html and "优秀社工" in html and "驻村服务" in html
    for testid in ("enrolments", "awards", "dispatches"):
        assert f'data-testid="{testid}"' in html


def test_person_outside_the_area_is_404(county_client, people):
    response = county_client.get(f"/workforce/workers/{people['zhao'].pk}/")
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="social_worker.view").exists()


def test_analyst_may_see_the_dashboard_but_not_the_registry(client, people):
    client.force_login(make_user(Role.ANALYST, "50", username="analyst-wf"))
    assert client.get("/workforce/workers/").status_code == 403
    assert client.post("/workforce/workers/", {"q": national_id(501)}).status_code == 403
    assert client.get(f"/workforce/workers/{people['zhang'].pk}/").status_code == 403
    response = client.get("/workforce/", {"division": "500105"})
    assert response.status_code == 200
    assert 'data-testid="registry-link"' not in response.content.decode()


# --- the dashboard -------------------------------------------------------------------------


def test_dashboard_figures_equal_the_selectors(county_client, people):
    # given a known population for the town
    Division.objects.filter(code=TOWN).update(population=10000)
    town = division(TOWN)
    # when the county user opens the town's dashboard
    response = county_client.get("/workforce/", {"division": TOWN})
    assert response.status_code == 200
    # (the figures are in the panels the page loads after it)
    html = _panels(county_client, {"division": TOWN})
    # then three people are in post, two at the grassroots, 3 per 10,000 residents
    assert grassroots_professionals(division=town, as_of=TODAY) == {
        "professionals": 3,
        "grassroots": 2,
    }
    assert 'data-testid="f15">3<' in html and 'data-testid="f16">2<' in html
    assert 'data-testid="per-10k">3.00<' in html
    # and the headcounts by qualification and workplace are the selectors'
    by_level = headcount_by_qualification(division=town, as_of=TODAY)
    assert by_level == {"none": 0, "assistant": 1, "social_worker": 1, "senior": 1}
    for level, n in by_level.items():
        assert re.search(rf'data-level="{level}"><td>[^<]+</td><td class="num">{n}<', html)
    by_workplace = headcount_by_workplace(division=town, as_of=TODAY)
    assert {k: v for k, v in by_workplace.items() if v} == {
        "grassroots": 1,
        "community_service": 1,
        "agency": 1,
    }
    for wt, n in by_workplace.items():
        assert re.search(rf'data-workplace="{wt}"><td>[^<]+</td><td class="num">{n}<', html)
    # and continuing education: one complete, one short, one not registered
    ce = ce_compliance_summary(division=town, today=TODAY)
    assert (ce["complete"], ce["short"], ce["not_registered"]) == (1, 1, 1)
    assert 'data-testid="ce-complete">1 / 2<' in html
    # and the communities below: 张三 at 桥北社区's room; 王五 works outside the network and
    # is registered in 华新社区, so he counts there; nobody in 嘉陵社区
    counts = headcount_by_child(
        division=town, as_of=TODAY, codes=["500105001001", "500105001002", "500105001003"]
    )
    assert counts == {"500105001001": 1, "500105001002": 1, "500105001003": 0}
    assert 'data-testid="qualification-chart"' in html


def test_dashboard_shows_a_dash_without_population(county_client, people):
    html = _panels(county_client, {"division": TOWN})
    assert 'data-testid="per-10k">—<' in html


def test_dashboard_outside_scope_is_404(county_client, people):
    assert county_client.get("/workforce/", {"division": "500103"}).status_code == 404
    for name in ("people", "ce", "children", "talent"):
        response = county_client.get(f"/workforce/panels/{name}/", {"division": "500103"})
        assert response.status_code == 404


def test_dashboard_page_loads_its_panels_after_it(county_client, people):
    # when the county user opens the dashboard
    html = county_client.get("/workforce/", {"division": TOWN}).content.decode()
    # then each panel is loaded by htmx with the page's division and date, a spinner till then
    for name in ("people", "ce", "children", "talent"):
        assert f'hx-get="/workforce/panels/{name}/?division={TOWN}&amp;as_of=' in html
    assert "spinner-border" in html
    # and an unknown panel is not found
    assert county_client.get("/workforce/panels/nope/", {"division": TOWN}).status_code == 404


def test_dashboard_figures_follow_a_change(county_client, people):
    # given the town's figures, read once (and cached)
    before = _panels(county_client, {"division": TOWN})
    assert 'data-testid="f15">3<' in before
    # when one more person takes a post in the town
    extra = person(620, "赵六", TOWN, "social_worker")
    Posting.objects.create(
        worker=extra,
        workplace_type="agency",
        workplace_name="某社工机构",
        employment="full_time",
        started_on=TODAY - timedelta(days=30),
    )
    # then the next look counts them
    assert 'data-testid="f15">4<' in _panels(county_client, {"division": TOWN})


def test_dashboard_figures_follow_a_change_through_a_service(county_client, people):
    # given the town's figures, read once (and cached), and a person's page opened (an
    # audited read, which keeps the cache)
    assert 'data-testid="f15">3<' in _panels(county_client, {"division": TOWN})
    county_client.get(f"/workforce/workers/{people['zhang'].pk}/")
    # when 张三's posting ends through the service (no new row: an update)
    posting = Posting.objects.get(worker=people["zhang"], ended_on__isnull=True)
    posting_end(actor=None, posting=posting, ended_on=TODAY - timedelta(days=1))
    # then the next look no longer counts him
    assert 'data-testid="f15">2<' in _panels(county_client, {"division": TOWN})


def _panels(client, query) -> str:
    """The dashboard's panels, as the page's htmx loads them, in one string."""
    html = ""
    for name in ("people", "ce", "children", "talent"):
        response = client.get(f"/workforce/panels/{name}/", query)
        assert response.status_code == 200
        html += response.content.decode()
    return html


def test_dashboard_export_is_a_workbook(county_client, people):
    response = county_client.get("/workforce/", {"division": TOWN, "format": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == 3 and rows[2][1] == 2


def test_ce_status_in_sql_agrees_with_the_rule(people):
    # given people in various situations on a fixed day
    day = date(2024, 6, 30)
    specs = []

    def make(serial, level, periods, credits=(), degree=None, cancelled=()):
        worker = person(serial, f"人{serial}", "500105", level)
        for i, (start, end) in enumerate(periods):
            RegistrationPeriod.objects.create(
                worker=worker,
                starts_on=start,
                ends_on=end,
                status=RegistrationStatus.CANCELLED if i in cancelled else "registered",
            )
        for hours, done in credits:
            ContinuingEducation.objects.create(
                worker=worker, hours=Decimal(hours), completed_on=done, title="课"
            )
        if degree:
            Education.objects.create(
                worker=worker,
                school="西南大学",
                degree="master",
                social_work_major=True,
                graduated_on=degree,
            )
        specs.append(worker)

    p1 = (date(2018, 1, 1), date(2020, 12, 31))
    p2 = (date(2021, 1, 1), date(2023, 12, 31))
    p3 = (date(2024, 1, 1), date(2026, 12, 31))
    sw, assistant, none = "social_worker", "assistant", "none"
    make(601, sw, [p3], [(90, date(2024, 1, 1))])  # exactly 90 on the first day
    make(602, sw, [p3], [(89.5, date(2024, 6, 30))])  # short by half an hour
    make(603, assistant, [p3], [(72, date(2023, 12, 31))])  # hours in the previous period
    make(604, sw, [p2, p3], degree=date(2022, 7, 1))  # the degree went to p2
    make(605, sw, [p3], degree=date(2022, 7, 1))  # p3 is the first not ended: credit
    make(606, sw, [p2, p3], degree=date(2024, 1, 10), cancelled=(0,))
    make(607, sw, [p1, p3], degree=date(2023, 5, 1))  # no period between: p3 gets it
    make(608, none, [p3])  # nothing required
    make(609, sw, [p3], cancelled=(0,))  # cancelled: not registered
    make(610, sw, [p2])  # period over: not registered now
    make(611, assistant, [p3], [(40, date(2024, 2, 1)), (40, date(2024, 3, 1))])
    make(612, sw, [p3], [(30, date(2024, 2, 1))], degree=date(2030, 1, 1) - timedelta(days=1))
    # when the status is computed in SQL, then it agrees with workforce.ce for each
    annotated = dict(
        with_ce_status(
            SocialWorker.objects.filter(pk__in=[w.pk for w in specs]), today=day
        ).values_list("pk", "ce_status")
    )
    for worker in specs:
        standing = ce_current(worker, day)
        expected = (
            "not_registered" if standing is None else "complete" if standing.complete else "short"
        )
        assert annotated[worker.pk] == expected, worker.name
    assert sorted(annotated.values()) == sorted(
        ["complete"] * 6 + ["short"] * 4 + ["not_registered"] * 2
    )

    # and the dashboard's grouped summary (read from the current periods) counts the same
    everyone = with_ce_status(
        SocialWorker.objects.filter(division__code__startswith="500105"), today=day
    ).values_list("ce_status", flat=True)
    summary = ce_compliance_summary(division=division("500105"), today=day)
    for status in ("complete", "short", "not_registered"):
        assert summary[status] == sum(1 for s in everyone if s == status), status
