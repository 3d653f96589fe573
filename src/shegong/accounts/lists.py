"""The accounts' declared list (``core.lists``): users in the security administrator's scope,
phones masked."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shegong.accounts.models import TwoFactorDevice, User
from shegong.core.inputs import SEARCH_LENGTH
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.roles import Role
from shegong.core.validators import mask_phone


class UserFilter(FilterSet):
    q = django_filters.CharFilter(
        label=_("User name or full name"), method="search", max_length=SEARCH_LENGTH
    )
    role = django_filters.ChoiceFilter(
        label=_("Role"), choices=Role.choices, empty_label=_("Any role")
    )
    active = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=[("yes", _("Active")), ("no", _("Disabled"))],
        empty_label=_("Active and disabled"),
        method="by_active",
    )

    class Meta:
        model = User
        fields = []

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(username__icontains=value) | Q(full_name__icontains=value))

    def by_active(self, queryset, name, value):
        return queryset.filter(is_active=value == "yes")


def _edit_link(user):
    return reverse("accounts:user_edit", args=[user.pk])


USER_TABLE = Table(
    columns=(
        Col(
            "username",
            _("User name"),
            "username",
            sort="username",
            link=_edit_link,
            title=True,
            testid="username",
            kind="code",
        ),
        Col("full_name", _("Full name"), "full_name", sort="pinyin:full_name"),
        Col("role", _("Role"), lambda u: u.get_role_display(), sort="role"),
        Col("division", _("Division"), "division.name", sort="division__code"),
        Col("phone", _("Phone"), lambda u: mask_phone(u.phone) if u.phone else "", testid="phone"),
        Col(
            "active",
            _("Status"),
            lambda u: _("Active") if u.is_active else _("Disabled"),
            sort="is_active",
            kind="tag",
            tone=lambda u: "ok" if u.is_active else "muted",
        ),
        Col("last_login", _("Last sign-in"), "last_login", sort="last_login", kind="datetime"),
        Col("two_factor", _("Two-factor"), "has_two_factor", kind="bool"),
    ),
    default_sort="username",
    testid="users",
)


def _users(request):
    return (
        User.objects.restrict(request.user, "view")
        .select_related("division")
        .annotate(has_two_factor=Exists(TwoFactorDevice.objects.filter(user=OuterRef("pk"))))
    )


def _actions(request):
    actions = []
    if request.user.has_perm("accounts.add_user"):
        actions.append((reverse("accounts:user_create"), _("New user"), "ti-user-plus"))
        actions.append(
            (reverse("accounts:user_import"), _("Import users from Excel"), "ti-file-import")
        )
    return actions


user_list_page = ListPage(
    title=_("Users"),
    table=USER_TABLE,
    queryset=_users,
    filterset=UserFilter,
    export_name="users",
    empty_text=_("No users match."),
    actions=_actions,
    no_store=True,
)
