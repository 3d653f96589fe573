"""Service-record pages and API: the mobile form's defaults and prefill, saving and
refusals (input kept), the list with filters and its export (names only for roles that
may export personal data; capped and logged), ``POST/GET /service-records``."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shegong.casework.models import ServiceRecord
from shegong.core.models import AuditEvent
from tests.casework import test_records as base

pytestmark = pytest.mark.django_db

# the shared world and helpers of tests/casework/test_records.py
_english = base._english
place = base.place
residents = base.residents
visit = base.visit

TODAY = date.today()


def test_the_form_has_sensible_defaults(client, place):
    # given the room worker who last recorded emotional support for 张大爷
    visit(place, served_on=TODAY - timedelta(days=3), domain="emotional_support")
    client.force_login(place["worker"])
    # when they open the form
    response = client.get(reverse("casework:record_new"))
    html = response.content.decode()
    form = response.context["form"]
    # then today, a home visit, the last domain and their room are preset
    assert response["Cache-Control"] == "no-store"
    assert form["served_on"].value() == TODAY
    assert form["method"].value() == "visit"
    assert form["domain"].value() == "emotional_support"
    assert form["facility"].value() == place["room"].pk
    # and the resident they served is a one-tap chip
    assert f'data-resident="{place["resident"].pk}"' in html


def test_saving_a_home_visit(client, place):
    client.force_login(place["worker"])
    # when the worker picks a resident chip, writes a note and saves
    response = client.post(
        reverse("casework:record_new"),
        {
            "resident": place["second"].pk,
            "served_on": TODAY.isoformat(),
            "method": "visit",
            "domain": "social_support",
            "facility": place["room"].pk,
            "duration_minutes": 30,
            "notes": "送米送油",
            "headcount": 0,
        },
    )
    # then one record of one person-time is written, and they are sent on
    assert response.status_code == 302
    record = ServiceRecord.objects.get()
    assert record.person_times == 1
    assert list(record.recipients.values_list("resident_id", flat=True)) == [place["second"].pk]


def test_a_future_date_is_refused_and_the_input_kept(client, place):
    client.force_login(place["worker"])
    response = client.post(
        reverse("casework:record_new"),
        {
            "resident": place["resident"].pk,
            "served_on": (TODAY + timedelta(days=2)).isoformat(),
            "method": "visit",
            "domain": "social_support",
            "facility": place["room"].pk,
            "duration_minutes": 30,
            "notes": "明天的探访",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "日期不能晚于今天" in html  # "The date cannot be in the future."
    assert "明天的探访" in html
    assert not ServiceRecord.objects.exists()


def test_the_form_refuses_a_resident_outside_scope(client, place):
    client.force_login(place["worker"])
    response = client.post(
        reverse("casework:record_new"),
        {
            "resident": place["neighbour"].pk,
            "served_on": TODAY.isoformat(),
            "method": "visit",
            "domain": "social_support",
            "facility": place["room"].pk,
            "duration_minutes": 30,
        },
    )
    assert response.status_code == 404
    assert not ServiceRecord.objects.exists()
    # and prefilling with them is not found either
    response = client.get(reverse("casework:record_new"), {"resident": place["neighbour"].pk})
    assert response.status_code == 404


def test_the_list_filters_and_exports(client, place):
    visit(place, served_on=TODAY - timedelta(days=10), method="phone")
    visit(place, served_on=TODAY, method="visit")
    client.force_login(place["worker"])
    response = client.get(reverse("casework:records"), {"method": "phone"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 1
    response = client.get(reverse("casework:records"), {"start": TODAY.isoformat()})
    assert response.context["page"].paginator.count == 1
    assert "张大爷" in response.content.decode()
    # the room worker may not export personal data: the export has no names
    response = client.get(reverse("casework:records"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row]
    assert "张大爷" not in cells
    assert sheet.max_row == 3
    # the station staff may: names are in theirs, and each export is logged
    client.force_login(place["station_staff"])
    response = client.get(reverse("casework:records"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "张大爷" in [str(c.value) for row in sheet.iter_rows() for c in row]
    exports = AuditEvent.objects.filter(action="resident.export")
    assert exports.count() == 2
    assert [e.after["names"] for e in exports.order_by("seq")] == [False, True]


# --- API ---------------------------------------------------------------------------------------


def _post(client, body):
    return client.post(
        reverse("api:create_service_record"), json.dumps(body), content_type="application/json"
    )


def _body(place, **extra):
    return {
        "facility_id": place["room"].pk,
        "served_on": TODAY.isoformat(),
        "domain": "emotional_support",
        "method": "visit",
        "resident_ids": [place["resident"].pk],
        "notes": "情绪稳定",
        **extra,
    }


def test_the_api_records_a_service(client, place):
    client.force_login(place["worker"])
    # a group of 12 is 12 person-times; a head-count of 40 is 40
    people = residents(12)
    response = _post(client, _body(place, resident_ids=[p.pk for p in people], method="group"))
    assert response.status_code == 201, response.content
    assert response.json()["person_times"] == 12
    response = _post(client, _body(place, resident_ids=[], headcount=40, method="community"))
    assert response.json()["person_times"] == 40


def test_the_api_refuses_bad_input(client, place):
    client.force_login(place["worker"])
    future = (TODAY + timedelta(days=1)).isoformat()
    cases = [
        (_body(place, served_on=future), 422, "served_on"),
        (_body(place, resident_ids=[], headcount=0), 422, "residents"),
        (_body(place, resident_ids=[place["neighbour"].pk]), 404, None),
        (_body(place, facility_id=place["next_room"].pk), 404, None),
        (_body(place, surprise=1), 422, None),
    ]
    for body, status, field in cases:
        response = _post(client, body)
        assert response.status_code == status, (body, response.content)
        if field:
            assert field in [e["loc"][0] for e in response.json()["errors"]]
    assert not ServiceRecord.objects.exists()


def test_the_api_list_has_no_notes_and_the_detail_is_logged(client, place):
    record = visit(place)
    client.force_login(place["worker"])
    response = client.get(reverse("api:list_service_records"))
    assert response["Cache-Control"] == "no-store"
    listed = response.json()
    assert listed["count"] == 1
    assert "notes" not in listed["results"][0]
    assert listed["results"][0]["residents"] == [{"id": place["resident"].pk, "name": "张大爷"}]
    detail = client.get(reverse("api:get_service_record", kwargs={"record_id": record.pk}))
    assert detail.status_code == 200
    assert detail.json()["notes"] == "探访，情绪稳定"
    assert AuditEvent.objects.filter(action="resident.view_service_record").count() == 1


def test_a_childs_notes_are_withheld_from_who_may_not_open_them(client, place):
    from tests.casework.world import make_resident

    child = make_resident("李小明", "500105001001", 902, born=date(TODAY.year - 10, 3, 1))
    record = visit(place, residents=[child], notes="家庭情况")
    # the community's room worker opens the child's record; the county staff may not
    client.force_login(place["worker"])
    url = reverse("api:get_service_record", kwargs={"record_id": record.pk})
    assert client.get(url).json()["notes"] == "家庭情况"
    client.force_login(place["county"])
    data = client.get(url).json()
    assert (data["notes"], data["notes_withheld"]) == ("", True)


def test_the_record_page_shows_the_notes_and_logs_the_view(client, place):
    from tests.casework.world import make_resident

    record = visit(place)
    child = make_resident("李小明", "500105001001", 902, born=date(TODAY.year - 10, 3, 1))
    child_record = visit(place, residents=[child], notes="家庭情况")
    client.force_login(place["worker"])
    response = client.get(reverse("casework:record", kwargs={"pk": record.pk}))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "探访，情绪稳定" in response.content.decode()
    assert AuditEvent.objects.filter(action="resident.view_service_record").count() == 1
    # the county staff do not see a child's notes without breaking the glass
    client.force_login(place["county"])
    html = client.get(reverse("casework:record", kwargs={"pk": child_record.pk})).content.decode()
    assert "家庭情况" not in html
