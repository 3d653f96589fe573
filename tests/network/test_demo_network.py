"""The demo network reproduces the article: F1 = 12, F2 = 4,350, F3 = 38.6 %,
and the API and the dashboard say so."""

import pytest

from shegong.network.demo import demo_network_create
from shegong.network.services import seed_article_standard

pytestmark = pytest.mark.django_db


def test_api_and_dashboard_report_the_articles_network(client, users):
    # given the demo network on the real Chongqing divisions
    seed_article_standard()
    made = demo_network_create()
    assert made["rooms"] == 4350
    client.force_login(users["city_admin"])
    # when the city asks the API
    body = client.get("/api/v1/coverage", {"division": "50"}).json()
    # then
    assert body["fully_covered"] == 12
    assert {"500105", "500107"} <= set(body["fully_covered_counties"])
    assert (body["rooms"], body["communities"]) == (4350, 11270)
    assert body["room_share"] == 0.386
    # and most but not all facilities meet the standard
    compliance = client.get("/api/v1/compliance", {"division": "50"}).json()
    assert 0.7 < compliance["share"] < 1 and compliance["gap"] > 0
    # and the dashboard shows the same figures
    html = client.get("/network/").content.decode()
    assert 'data-testid="f1">12<' in html
    assert 'data-testid="f2">4,350<' in html
    assert 'data-testid="f3">38.6%<' in html
    # named in words, never by an internal code
    assert "(F1)" not in html and "（F3）" not in html
