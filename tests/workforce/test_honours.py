"""Honours: people honoured per scheme (F17–F19) and rewards per person and in total (F20)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from shegong.core.roles import Role
from shegong.geo.models import Division
from shegong.workforce.models import Award, AwardScheme, HonourCategory, HonourLevel
from shegong.workforce.selectors import honours_figures, honours_summary
from shegong.workforce.services import award_create, award_scheme_create, social_worker_create
from tests.conftest import make_user
from tests.network.conftest import national_id

pytestmark = pytest.mark.django_db


def place(code="50"):
    return Division.objects.get(code=code)


def person(serial, code="500105001001"):
    return social_worker_create(
        actor=None, name=f"获奖者{serial}", national_id=national_id(serial), division=place(code)
    )


@pytest.fixture
def schemes():
    return {
        "F17": award_scheme_create(
            actor=None,
            name="重庆市社会工作人才突出贡献奖",
            level=HonourLevel.MUNICIPAL,
            category=HonourCategory.OUTSTANDING_CONTRIBUTION,
            division=place(),
            reward_amount=Decimal("10000"),
        ),
        "F18": award_scheme_create(
            actor=None,
            name="重庆市社会工作名师",
            level=HonourLevel.MUNICIPAL,
            category=HonourCategory.FAMOUS_MASTER,
            division=place(),
            reward_amount=Decimal("5000.00"),
        ),
        "F19": award_scheme_create(
            actor=None,
            name="全国社会工作领军人才",
            level=HonourLevel.NATIONAL,
            category=HonourCategory.NATIONAL_LEADING,
            division=place(),
        ),
    }


def test_f17_to_f20_count_people_and_rewards(schemes):
    # given in 2023 A and B receive the contribution award (B's reward set at 8,000 and
    # paid), A is also a famous master; in 2022 C became a national leading talent; and a
    # person in 四川 is honoured too
    a, b, c = person(1), person(2), person(3, "500107001001")
    award_create(actor=None, scheme=schemes["F17"], worker=a, year=2023)
    award_create(
        actor=None,
        scheme=schemes["F17"],
        worker=b,
        year=2023,
        reward_amount=Decimal("8000"),
        paid_on=date(2023, 12, 1),
    )
    award_create(actor=None, scheme=schemes["F18"], worker=a, year=2023)
    award_create(actor=None, scheme=schemes["F19"], worker=c, year=2022)
    sichuan = person(4, "510104017001")
    award_create(actor=None, scheme=schemes["F17"], worker=sichuan, year=2023)
    # when the figures are computed for Chongqing in 2023 and over all years
    in_2023 = honours_figures(division=place(), year=2023)
    ever = honours_figures(division=place())
    # then people are counted per scheme; the reward defaults to the scheme's standard
    assert (in_2023["F17"], in_2023["F18"], in_2023["F19"]) == (2, 1, 0)
    assert in_2023["rewards_total"] == Decimal("23000.00")
    assert in_2023["rewards_paid"] == Decimal("8000.00")
    assert in_2023["F20"] == Decimal("5000.00")  # the famous master's reward
    assert in_2023["reward_per_person"] == Decimal("11500.00")  # 23,000 for 2 people
    assert (ever["F17"], ever["F18"], ever["F19"], ever["honoured"]) == (2, 1, 1, 3)
    assert ever["reward_per_person"] == Decimal("7666.67")
    # and a county sees its own people only
    jiangbei = honours_figures(division=place("500105"))
    assert (jiangbei["F17"], jiangbei["F19"]) == (2, 0)


def test_honours_summary_per_scheme(schemes):
    a = person(5)
    award_create(actor=None, scheme=schemes["F18"], worker=a, year=2021)
    award_create(actor=None, scheme=schemes["F18"], worker=a, year=2023, paid_on=date(2023, 6, 1))
    rows = {row["name"]: row for row in honours_summary(division=place())}
    masters = rows["重庆市社会工作名师"]
    assert (masters["people"], masters["awards"], masters["total"], masters["paid"]) == (
        1,
        2,
        Decimal("10000.00"),
        Decimal("5000.00"),
    )
    assert masters["per_person"] == Decimal("10000.00")
    assert "全国社会工作领军人才" not in rows


def test_bad_award_input_is_refused(schemes):
    a = person(6)
    today = timezone.localdate()
    for kwargs, field in (
        ({"reward_amount": Decimal("-1")}, "reward_amount"),
        ({"reward_amount": Decimal("1.005")}, "reward_amount"),
        ({"reward_amount": "lots"}, "reward_amount"),
        ({"paid_on": today + timedelta(days=1)}, "paid_on"),
        ({"paid_on": date(2022, 12, 31)}, "paid_on"),
        ({"year": today.year + 1}, "year"),
    ):
        with pytest.raises(ValidationError) as exc:
            award_create(actor=None, scheme=schemes["F17"], worker=a, **({"year": 2023} | kwargs))
        assert field in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        award_scheme_create(
            actor=None,
            name="负奖",
            level=HonourLevel.COUNTY,
            division=place(),
            reward_amount=Decimal("-5"),
        )
    assert "reward_amount" in exc.value.message_dict
    award_create(actor=None, scheme=schemes["F17"], worker=a, year=2023)
    with pytest.raises(ValidationError):
        award_create(actor=None, scheme=schemes["F17"], worker=a, year=2023)
    assert Award.objects.count() == 1


def test_a_county_user_cannot_create_an_award_scheme(client):
    # given a county user
    county = make_user(Role.COUNTY_STAFF, "500105")
    # when they try, directly and through the API
    with pytest.raises(PermissionDenied):
        award_scheme_create(
            actor=county, name="区级奖", level=HonourLevel.COUNTY, division=place("500105")
        )
    client.force_login(county)
    response = client.post(
        "/api/v1/honours/schemes",
        {"name": "区级奖", "level": "county", "division_code": "500105"},
        content_type="application/json",
    )
    # then it is refused and nothing is created
    assert response.status_code == 403
    assert not AwardScheme.objects.filter(name="区级奖").exists()


def test_honours_through_the_api(client, schemes):
    # given the city administrator, a person in Chongqing and one in 四川
    admin = make_user(Role.CITY_ADMIN, "50")
    client.force_login(admin)
    here, there = person(7), person(8, "510104017001")
    # when they honour the person here (default reward) and try the one there
    response = client.post(
        "/api/v1/honours/awards",
        {"scheme_id": schemes["F17"].pk, "worker_id": here.pk, "year": 2023},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["reward_amount"] == "10000.00"
    assert response.json()["worker_name"] == here.name
    outside = client.post(
        "/api/v1/honours/awards",
        {"scheme_id": schemes["F17"].pk, "worker_id": there.pk, "year": 2023},
        content_type="application/json",
    )
    negative = client.post(
        "/api/v1/honours/awards",
        {"scheme_id": schemes["F18"].pk, "worker_id": here.pk, "year": 2023, "reward_amount": -1},
        content_type="application/json",
    )
    # then the outside person is not found and a negative reward is refused
    assert outside.status_code == 404
    assert negative.status_code == 422
    figures = client.get("/api/v1/talent/figures", {"division": "50", "year": 2023}).json()
    assert (figures["F17"], figures["reward_per_person"]) == (1, "10000.00")
    assert figures["F20"] is None  # no famous master honoured
