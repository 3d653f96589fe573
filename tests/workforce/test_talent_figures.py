"""Workers per 10,000 residents, and all talent figures in one dict."""

from datetime import date
from decimal import Decimal

import pytest

from shegong.core.roles import Role
from shegong.geo.services import division_set_population
from shegong.workforce.models import HonourCategory, HonourLevel, SocialWorker
from shegong.workforce.selectors import grassroots_professionals, talent_figures, workers_per_10k
from shegong.workforce.services import award_create, award_scheme_create
from tests.conftest import make_user
from tests.network.conftest import division

pytestmark = pytest.mark.django_db


def test_workers_per_10k_residents_where_the_population_is_known(network):
    # given the hand-built network: 7 people in post on 30 June 2024
    day = date(2024, 6, 30)
    assert grassroots_professionals(division=division("97"), as_of=day)["professionals"] == 7
    # then without a population there is no figure, with 56,000 residents 1.25
    assert workers_per_10k(division=division("97"), as_of=day) is None
    province = division_set_population(actor=None, division=division("97"), population=56000)
    assert workers_per_10k(division=province, as_of=day) == Decimal("1.25")


def test_talent_figures_in_one_dict(network):
    division_set_population(actor=None, division=division("97"), population=70000)
    figures = talent_figures(division=division("97"), year=2024, as_of=date(2024, 6, 30))
    assert set(figures) >= {
        "F9", "F10", "F11", "F12", "F13", "F14", "F17", "F18", "F19", "F20", "F26", "F27",
    }  # fmt: skip
    assert (figures["F9"], figures["F12"], figures["F26"], figures["F20"]) == (0, 0, 0, None)
    assert figures["workers_per_10k"] == Decimal("1.00")


def test_talent_figures_api_is_scoped(client):
    client.force_login(make_user(Role.COUNTY_STAFF, "500105"))
    assert client.get("/api/v1/talent/figures", {"division": "500107"}).status_code == 404
    assert client.get("/api/v1/talent/figures", {"division": "500105001"}).status_code == 200
    client.force_login(make_user(Role.SECURITY_ADMIN, "50", username="sec"))
    assert client.get("/api/v1/talent/figures").status_code == 403


def test_yearly_figures_are_for_the_year_and_honours_and_dispatches_up_to_it(network):
    # given a famous master honoured in 2021 and another in 2023
    first, second = SocialWorker.objects.filter(division__code__startswith="97")[:2]
    scheme = award_scheme_create(
        actor=None,
        name="名家名师",
        level=HonourLevel.MUNICIPAL,
        category=HonourCategory.FAMOUS_MASTER,
        division=division("97"),
        reward_amount=Decimal("300000"),
    )
    for worker, year in ((first, 2021), (second, 2023)):
        award_create(actor=None, scheme=scheme, worker=worker, year=year)
    # when the figures are asked for 2022 and for 2023
    in_2022 = talent_figures(division=division("97"), year=2022)
    in_2023 = talent_figures(division=division("97"), year=2023)
    # then honours count everyone honoured up to the year's end
    assert (in_2022["F18"], in_2023["F18"]) == (1, 2)
    assert in_2023["F20"] == Decimal("300000.00")
