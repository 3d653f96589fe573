"""Load shedding (security.md 23): a request that waited in the server's queue longer than
the limit (the reverse proxy's X-Request-Start) is answered 503 with Retry-After at once,
in Chinese, and nothing is read or written for it; others are served as usual."""

import time

import pytest
from django.test import RequestFactory, override_settings

from shegong.accounts.services import api_token_create
from shegong.core.middleware import queued_ms
from shegong.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _started(seconds_ago: float) -> str:
    return f"t={time.time() - seconds_ago:.3f}"


def test_the_wait_is_read_from_seconds_or_milliseconds():
    request = RequestFactory().get("/", HTTP_X_REQUEST_START="t=1700000000.250")
    assert queued_ms(request, now=1700000001.0) == pytest.approx(750)
    request = RequestFactory().get("/", HTTP_X_REQUEST_START="t=1700000000250")
    assert queued_ms(request, now=1700000001.0) == pytest.approx(750)
    assert queued_ms(RequestFactory().get("/")) is None
    assert queued_ms(RequestFactory().get("/", HTTP_X_REQUEST_START="soon")) is None


@override_settings(SHEGONG_QUEUE_LIMIT_MS=2000)
def test_a_request_that_waited_too_long_is_shed_and_writes_nothing(client, county_user):
    # given a valid token and a request the proxy received 5 s ago
    _token, raw = api_token_create(user=county_user, name="rush")
    events = AuditEvent.objects.count()
    # when it reaches the API and a page
    api = client.post(
        "/api/v1/tokens",
        {"name": "more"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_X_REQUEST_START=_started(5),
    )
    page = client.get("/", HTTP_X_REQUEST_START=_started(5))
    # then both are refused at once with a clear answer, and nothing was written
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api.json()["code"] == "overloaded" and "系统繁忙" in api.json()["detail"]
    assert page.status_code == 503 and "系统繁忙" in page.content.decode()
    assert page["Cache-Control"] == "no-store" and "Content-Security-Policy" in page
    assert AuditEvent.objects.count() == events
    # while the same request fresh from the proxy is served and audited
    served = client.post(
        "/api/v1/tokens",
        {"name": "more"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_X_REQUEST_START=_started(0.1),
    )
    assert served.status_code == 201
    assert AuditEvent.objects.count() > events


@override_settings(SHEGONG_QUEUE_LIMIT_MS=2000)
def test_requests_within_the_limit_or_without_the_header_are_served(client, county_user):
    client.force_login(county_user)
    assert client.get("/", HTTP_X_REQUEST_START=_started(0.1)).status_code == 200
    assert client.get("/").status_code == 200


@override_settings(SHEGONG_QUEUE_LIMIT_MS=0)
def test_a_limit_of_zero_sheds_nothing(client, county_user):
    client.force_login(county_user)
    assert client.get("/", HTTP_X_REQUEST_START=_started(60)).status_code == 200
