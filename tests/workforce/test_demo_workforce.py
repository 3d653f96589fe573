"""The demo workforce reproduces the article: F9–F20 and F26–F27 through the API and the
dashboard, on the real Chongqing divisions."""

import pytest
from django.db import connection

from shegong.network.demo import demo_network_create
from shegong.network.services import seed_article_standard
from shegong.workforce.demo import demo_workforce_create
from shegong.workforce.models import Posting, SocialWorker

pytestmark = pytest.mark.django_db


def test_api_and_dashboard_report_the_articles_workforce(client, users):
    # given the demo network and workforce
    seed_article_standard()
    demo_network_create()
    made = demo_workforce_create()
    assert made["deep_poverty_towns"] == 18
    client.force_login(users["city_admin"])

    # when the city asks for its professionals (F15, F16)
    body = client.get("/api/v1/professionals", {"division": "50"}).json()
    # then
    assert body == {"professionals": 63000, "grassroots": 37200}

    # when it asks for the talent figures of a year of the training plan
    figures = client.get("/api/v1/talent/figures", {"division": "50", "year": 2019}).json()
    # then universities, training, honours and poverty match the article
    assert (figures["F9"], figures["F10"]) == (10, 6)
    assert figures["F11"] >= 1000
    assert (figures["F12"], figures["F13"], figures["F14"]) == (200, 7, 12000)
    # and the honours are those conferred up to that year (two a year from 2016)
    assert figures["F17"] == 8
    # and over all years
    overall = client.get("/api/v1/talent/figures", {"division": "50"}).json()
    assert overall["F13"] == 8
    assert (overall["F17"], overall["F18"], overall["F19"]) == (10, 7, 2)
    assert float(overall["F20"]) == 300000
    assert overall["F26"] >= 500
    assert overall["F27"] == 18

    # and the national IDs are stored encrypted, never in clear
    worker = SocialWorker.objects.order_by("pk").last()
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id FROM workforce_socialworker WHERE id = %s", [worker.pk])
        stored = cursor.fetchone()[0]
    assert worker.national_id not in stored
    # and every demo posting is history-shaped: started, not in the future
    assert not Posting.objects.filter(started_on__gt="2026-01-01").exists()

    # when the city opens the workforce dashboard
    assert client.get("/workforce/", {"division": "50"}).status_code == 200
    html = client.get("/workforce/panels/people/", {"division": "50"}).content.decode()
    # then F15 and F16 are on it
    assert "63000" in html.replace(",", "")
    assert "37200" in html.replace(",", "")
