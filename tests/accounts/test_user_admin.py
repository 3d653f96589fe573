"""User administration (issue #12 item 1): the security administrator creates, edits,
disables and re-enables users within their area, through the pages and the API; users set
their own password through a one-time, expiring link; thousands are onboarded from one
.xlsx as a background job whose result is the .xlsx of their links; `shegong createadmin`
makes the first administrators of a new installation."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from openpyxl import Workbook, load_workbook

from shegong.accounts.io import USER_SHEET, import_users
from shegong.accounts.models import ApiToken, SetPasswordLink, User
from shegong.accounts.services import api_token_create, password_link_create
from shegong.core.models import AuditEvent, ImportJob
from shegong.core.roles import Role
from shegong.core.tasks import import_job_task, import_start
from shegong.geo.models import Division
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Qiaobei-community-2026"


@pytest.fixture
def security(db):
    return make_user(Role.SECURITY_ADMIN, "50", username="sec")


def password_signs_in(username: str, password: str) -> bool:
    """A real sign-in through the page (lockout and all)."""
    response = Client().post(
        reverse("accounts:login"), {"username": username, "password": password}
    )
    return response.status_code == 302 and response["Location"] != reverse("accounts:login")


def signed_in(client) -> bool:
    return client.get(reverse("api:me")).status_code == 200


def link_key(text: str) -> str:
    return re.search(r"/accounts/set-password/([A-Za-z0-9_-]+)/", text)[1]


def set_password(client, key: str, password: str = NEW_PASSWORD):
    client.get(reverse("accounts:set_password_link", kwargs={"key": key}))
    return client.post(
        reverse("accounts:set_password"), {"password1": password, "password2": password}
    )


# --- One user at a time ------------------------------------------------------------------


def test_the_security_admin_creates_a_user_who_sets_their_own_password(client, security):
    # given the security administrator on the new-user page
    client.force_login(security)
    # when they create a room worker for 桥北社区
    response = client.post(
        reverse("accounts:user_create"),
        {
            "username": "wangwu",
            "full_name": "王五",
            "role": Role.ROOM_WORKER,
            "division_code": "500105001001",
            "phone": "13800001111",
        },
    )
    # then the user exists without a password, and the page shows a one-time link, once
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    user = User.objects.get(username="wangwu")
    assert user.division.code == "500105001001" and not user.has_usable_password()
    key = link_key(response.content.decode())
    assert SetPasswordLink.objects.get(user=user).key_hash != key  # stored as a hash only
    # and with the link the user sets a password and signs in with it
    assert set_password(Client(), key).status_code == 302
    assert password_signs_in("wangwu", NEW_PASSWORD)
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_a_link_works_once_and_expires(client, security):
    user = make_user(Role.ROOM_WORKER, "500105001001", username="once")
    key = password_link_create(actor=security, user=user)
    # used once: a second use is refused
    assert set_password(Client(), key).status_code == 302
    response = set_password(Client(), key, "Another-good-pass-2026")
    assert response.status_code == 404 and 'data-testid="link-invalid"' in response.content.decode()
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # a new link expires after the configured hours
    key = password_link_create(actor=security, user=user)
    with freeze_time(timezone.now() + timedelta(hours=73)):
        assert set_password(Client(), key).status_code == 404
    # and a newer link revokes the older one
    first = password_link_create(actor=security, user=user)
    password_link_create(actor=security, user=user)
    assert set_password(Client(), first).status_code == 404


def test_a_weak_password_is_refused_and_the_link_stays_usable(security):
    user = make_user(Role.ROOM_WORKER, "500105001001", username="weak")
    key = password_link_create(actor=security, user=user)
    client = Client()
    response = set_password(client, key, "short")
    assert response.status_code == 422
    assert set_password(client, key).status_code == 302


def test_disabling_ends_sessions_and_tokens_at_once_and_enabling_lets_them_in(client, security):
    # given a user signed in in a browser and holding an API token
    user = make_user(Role.COUNTY_STAFF, "500105", username="county-x")
    browser = Client()
    browser.force_login(user)
    _token, raw = api_token_create(user=user, name="script")
    assert signed_in(browser)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client().get(reverse("api:me"), **bearer).status_code == 200
    # when the security administrator disables them
    client.force_login(security)
    response = client.post(reverse("accounts:user_active", kwargs={"pk": user.pk}), {"active": "0"})
    assert response.status_code == 302
    # then the session and the token stop at once, and the password no longer signs in
    assert not signed_in(browser)
    assert Client().get(reverse("api:me"), **bearer).status_code == 401
    assert not password_signs_in("county-x", PASSWORD)
    # and once enabled again, they sign in (their old token stays revoked)
    client.post(reverse("accounts:user_active", kwargs={"pk": user.pk}), {"active": "1"})
    assert password_signs_in("county-x", PASSWORD)
    assert ApiToken.objects.get(user=user).revoked_at is not None
    actions = AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)
    assert {"user.disable", "user.enable"} <= set(actions)


def test_editing_the_role_or_division_ends_the_users_sessions(client, security):
    user = make_user(Role.ROOM_WORKER, "500105001001", username="mover")
    browser = Client()
    browser.force_login(user)
    client.force_login(security)
    response = client.post(
        reverse("accounts:user_edit", kwargs={"pk": user.pk}),
        {"full_name": "调动", "role": Role.STATION_STAFF, "division_code": "500105001"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.role, user.division.code) == (Role.STATION_STAFF, "500105001")
    assert not signed_in(browser)


def test_a_security_admin_cannot_disable_or_demote_themselves(client, security):
    client.force_login(security)
    client.post(reverse("accounts:user_active", kwargs={"pk": security.pk}), {"active": "0"})
    response = client.post(
        reverse("accounts:user_edit", kwargs={"pk": security.pk}),
        {"full_name": "我", "role": Role.CITY_ADMIN, "division_code": "50"},
    )
    security.refresh_from_db()
    assert security.is_active and security.role == Role.SECURITY_ADMIN
    assert response.status_code == 422


def test_a_county_security_admin_manages_users_of_the_county_only(client):
    county_security = make_user(Role.SECURITY_ADMIN, "500105", username="sec-jb")
    inside = make_user(Role.ROOM_WORKER, "500105001001", username="in-jb")
    outside = make_user(Role.ROOM_WORKER, "500107001001", username="out-yz")
    client.force_login(county_security)
    listed = client.get(reverse("accounts:users")).content.decode()
    assert "in-jb" in listed and "out-yz" not in listed
    assert client.get(reverse("accounts:user_edit", kwargs={"pk": outside.pk})).status_code == 404
    assert client.get(reverse("accounts:user_edit", kwargs={"pk": inside.pk})).status_code == 200
    # creating a user outside the county is refused on the form
    response = client.post(
        reverse("accounts:user_create"),
        {
            "username": "far",
            "full_name": "远",
            "role": Role.ROOM_WORKER,
            "division_code": "500107001001",
        },
    )
    assert response.status_code == 422 and not User.objects.filter(username="far").exists()


def test_only_the_security_admin_manages_users(client, users):
    for role in (Role.CITY_ADMIN, Role.AUDIT_ADMIN, Role.COUNTY_STAFF):
        client.force_login(users[role])
        assert client.get(reverse("accounts:user_create")).status_code == 403
        target = users[Role.ROOM_WORKER]
        url = reverse("accounts:user_active", kwargs={"pk": target.pk})
        assert client.post(url, {"active": "0"}).status_code == 403
    assert User.objects.get(pk=users[Role.ROOM_WORKER].pk).is_active


def test_the_same_through_the_api(client, security):
    _token, raw = api_token_create(user=security, name="admin", two_factor=True)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    response = client.post(
        reverse("api:create_user"),
        {
            "username": "api-user",
            "full_name": "接口",
            "role": "station_staff",
            "division_code": "500105001",
        },
        content_type="application/json",
        **bearer,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["division"]["code"] == "500105001"
        and "/accounts/set-password/" in body["password_link"]["link"]
    )
    assert response["Cache-Control"] == "no-store"
    user_id = body["id"]
    disabled = client.post(reverse("api:disable_user", kwargs={"user_id": user_id}), **bearer)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    listed = client.get(reverse("api:list_users"), {"active": "false"}, **bearer).json()
    assert [u["username"] for u in listed["results"]] == ["api-user"]


# --- Two factors and tokens (item 6) -----------------------------------------------------


def test_tokens_of_roles_needing_two_factors_are_made_only_after_a_two_factor_sign_in(
    settings, client
):
    settings.REQUIRE_TWO_FACTOR = True
    worker = make_user(Role.ROOM_WORKER, "500105001001", username="room-2fa")
    client.force_login(worker)  # a session that did not pass the code step
    response = client.post(
        reverse("api:create_token"), {"name": "t"}, content_type="application/json"
    )
    assert response.status_code == 403 and not ApiToken.objects.filter(user=worker).exists()


def test_a_token_made_before_two_factors_became_required_stops_until_renewed(settings):
    worker = make_user(Role.ROOM_WORKER, "500105001001", username="room-old")
    settings.REQUIRE_TWO_FACTOR = False
    _old, raw = api_token_create(user=worker, name="old")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert Client().get(reverse("api:me"), **bearer).status_code == 200
    settings.REQUIRE_TWO_FACTOR = True
    assert Client().get(reverse("api:me"), **bearer).status_code == 401
    _new, renewed = api_token_create(user=worker, name="renewed", two_factor=True)
    assert (
        Client().get(reverse("api:me"), HTTP_AUTHORIZATION=f"Bearer {renewed}").status_code == 200
    )


# --- Bulk onboarding --------------------------------------------------------------------


def users_sheet(rows: list[list]) -> bytes:
    book = Workbook()
    book.active.append(list(USER_SHEET.headings.values()))
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def community_rows(n: int) -> list[list]:
    codes = list(
        Division.objects.filter(code__startswith="50", level="community")
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )
    return [
        [
            f"worker{i:05d}",
            f"社工{i}",
            "村社社会工作室社工",
            codes[i % len(codes)],
            f"139{i:08d}",
            "",
        ]
        for i in range(n)
    ]


def test_ten_thousand_users_from_one_file_each_with_a_link(security):
    # given a file of 10,000 room workers across Chongqing's communities
    data = users_sheet(community_rows(10_000))
    # when it is imported
    report = import_users(actor=security, data=data, origin="https://shegong.example.gov.cn")
    # then all are created without passwords, each with a link, in the result workbook
    assert report.ok and report.created == 10_000, report.errors[:3]
    assert User.objects.filter(username__startswith="worker").count() == 10_000
    assert SetPasswordLink.objects.filter(user__username__startswith="worker").count() == 10_000
    rows = list(
        load_workbook(io.BytesIO(report.result), read_only=True).active.iter_rows(values_only=True)
    )
    assert len(rows) == 10_001 and rows[1][0] == "worker00000"
    assert rows[1][4].startswith("https://shegong.example.gov.cn/accounts/set-password/")
    # and a link of the file works
    key = link_key(rows[1][4])
    assert set_password(Client(), key).status_code == 302
    # and re-running the file creates nobody; those who set no password get fresh links
    again = import_users(actor=security, data=data)
    assert (again.created, again.unchanged) == (0, 10_000)
    assert (
        len(list(load_workbook(io.BytesIO(again.result), read_only=True).active.iter_rows()))
        == 10_000
    )


def test_a_file_with_one_bad_row_writes_nothing_and_names_it(security):
    rows = community_rows(50)
    rows[20][3] = "510104017001"  # a community in 成都: outside the city
    rows[30][2] = "超级管理员"  # no such role
    rows[40][0] = rows[10][0]  # the same user name twice
    report = import_users(actor=security, data=users_sheet(rows))
    assert [line for line, _ in report.errors] == [22, 32, 42]
    assert "510104017001" in report.errors[0][1] and "12" in report.errors[2][1]
    assert not User.objects.filter(username__startswith="worker").exists()
    assert not AuditEvent.objects.filter(action="user.import").exists()


def test_the_import_runs_as_a_job_whose_links_only_its_creator_downloads(
    client, security, users, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = import_start(
            actor=security,
            kind="accounts.users",
            filename="users.xlsx",
            data=users_sheet(community_rows(3)),
            origin="http://testserver",
        )
    assert import_job_task.call(job.pk) == ImportJob.Status.SUCCEEDED
    job.refresh_from_db()
    assert job.created == 3 and job.result_available
    client.force_login(security)
    page = client.get(reverse("core:job", kwargs={"pk": job.pk})).content.decode()
    assert 'data-testid="job-result"' in page
    download = client.get(reverse("core:job_result", kwargs={"pk": job.pk}))
    assert download.status_code == 200 and download["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="import_job.result_download").count() == 1
    # a city administrator of the area sees the job, not its links
    client.force_login(users[Role.CITY_ADMIN])
    assert client.get(reverse("core:job", kwargs={"pk": job.pk})).status_code == 200
    assert client.get(reverse("core:job_result", kwargs={"pk": job.pk})).status_code == 404


def test_the_users_template_has_the_columns_and_no_data():
    book = load_workbook(io.BytesIO(USER_SHEET.template()))
    assert [c.value for c in book.active[1]] == list(USER_SHEET.headings.values())
    assert book.active.max_row == 1


# --- The first administrators ------------------------------------------------------------


def test_createadmin_on_a_new_installation_then_sign_in():
    # given an installation with its divisions and no user
    assert not User.objects.exists()
    out = io.StringIO()
    # when the operator creates the first administrators
    call_command("createadmin", "--division", "50", "--base-url", "https://sg.example", stdout=out)
    # then a security and a city administrator exist, each with a one-time link printed
    printed = out.getvalue()
    assert set(User.objects.values_list("role", flat=True)) == {
        Role.SECURITY_ADMIN,
        Role.CITY_ADMIN,
    }
    keys = re.findall(r"https://sg\.example/accounts/set-password/([A-Za-z0-9_-]+)/", printed)
    assert len(keys) == 2
    # and the security administrator sets a password and signs in
    assert set_password(Client(), keys[0]).status_code == 302
    assert password_signs_in("security", NEW_PASSWORD)
    # and running it again is refused
    with pytest.raises(CommandError):
        call_command("createadmin", "--division", "50", stdout=io.StringIO())


def test_createsuperuser_says_to_use_createadmin():
    with pytest.raises(CommandError, match="createadmin"):
        call_command("createsuperuser", "--noinput")


def test_the_user_list_masks_phones_and_sorts_names_by_pinyin(client, security):
    # given two users with phones
    first = make_user(Role.ROOM_WORKER, "500105001001", username="py-b")
    first.full_name, first.phone = "张三", "13800001111"
    first.save()
    second = make_user(Role.ROOM_WORKER, "500105001001", username="py-a")
    second.full_name, second.phone = "安四", "13900002222"
    second.save()
    client.force_login(security)
    # when the administrator lists them by full name
    html = client.get(reverse("accounts:users"), {"sort": "full_name", "q": "py-"}).content.decode()
    # then the phones are masked and 安 comes before 张 (pinyin, not code point)
    assert "13800001111" not in html and "13900002222" not in html
    assert "138****1111" in html
    assert html.index("安四") < html.index("张三")
    # and the Excel export masks them too
    import io

    from openpyxl import load_workbook

    export = client.get(reverse("accounts:users"), {"q": "py-", "format": "xlsx"})
    cells = {str(c.value) for row in load_workbook(io.BytesIO(export.content)).active for c in row}
    assert "138****1111" in cells and "13800001111" not in cells
