"""The audit trail in words: actions by a declared, translated label ("登录", "查看居民"),
residents named by their masked name ("王某某"), never "resident #4613" nor an ID."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from shegong.casework.privacy import log_access
from shegong.core.audit import audit_record
from shegong.core.audit_labels import ACTION_LABELS, action_label, event_label, mask_name
from shegong.core.models import AuditEvent
from shegong.core.roles import Role
from tests.casework.world import make_resident

pytestmark = pytest.mark.django_db


def test_actions_have_chinese_labels():
    # given the declared actions, when they are labelled in Chinese
    from django.utils import translation

    with translation.override("zh-hans"):
        # then the common ones read as words
        assert action_label("auth.login") == "登录"
        assert action_label("resident.view") == "查看居民"
        # and every declared action has a translation (not its English label)
        untranslated = [code for code, label in ACTION_LABELS.items() if str(label).isascii()]
    assert untranslated == []
    # an unknown code is shown as it is
    assert action_label("something.new") == "something.new"


def test_names_are_masked():
    assert mask_name("王小明") == "王某某"
    assert mask_name("吴静") == "吴某"
    assert mask_name("") == ""


def test_the_audit_page_reads_as_words(client, users):
    # given a room worker who viewed a resident, and signed in
    worker = users[Role.ROOM_WORKER]
    resident = make_resident("王小明", "500105001001", 911)
    log_access(worker, "view", resident)
    audit_record(actor=worker, action="auth.login", target=worker)
    event = AuditEvent.objects.filter(action="resident.view").first()
    assert event.object_repr == f"resident #{resident.pk}"
    # when the audit administrator opens the trail
    client.force_login(users[Role.AUDIT_ADMIN])
    html = client.get(reverse("core:audit")).content.decode()
    # then the actions and objects are in words
    assert "查看居民" in html and "登录" in html
    assert "王某某" in html
    assert f"resident #{resident.pk}" not in html and "王小明" not in html
    assert "resident.view" not in html.split('data-testid="audit-table"')[1]
    assert resident.national_id not in html
    # and the row as a whole reads "查看居民 王某某"
    from django.utils import translation

    from shegong.core.audit_labels import with_resident_names

    with translation.override("zh-hans"):
        row = with_resident_names(AuditEvent.objects.filter(pk=event.pk)).get()
        assert event_label(row) == "查看居民 王某某"


def test_the_audit_trail_filters_by_action_and_exports(client, users):
    # given two kinds of events
    worker = users[Role.ROOM_WORKER]
    audit_record(actor=worker, action="auth.login", target=worker)
    audit_record(actor=worker, action="auth.logout", target=worker)
    client.force_login(users[Role.AUDIT_ADMIN])
    # when the administrator keeps only sign-ins
    response = client.get(reverse("core:audit"), {"action": "auth.login"})
    table = response.content.decode().split('data-testid="audit-table"')[1]
    # then only those are listed
    assert "登录" in table and "退出登录" not in table
    # and the Excel export says the same in words
    export = client.get(reverse("core:audit"), {"action": "auth.login", "format": "xlsx"})
    book = load_workbook(io.BytesIO(export.content))
    actions = {row[3].value for row in book.active.iter_rows(min_row=2)}
    assert actions == {"登录"}
