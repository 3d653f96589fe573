"""The side navigation, declared once and grouped by the work (issue #13 item 2): each
item names its page, the permission that opens it and an icon; a user sees only the items
their role may open, and the item of the page they are on is marked."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Item:
    """One entry: the URL name, its label, the permission that opens it (None: everyone
    signed in), a Tabler icon, and the URL names of pages that belong under it."""

    url_name: str
    label: object
    perm: str | None
    icon: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    label: object
    icon: str
    items: tuple[Item, ...]


NAVIGATION = (
    Group(
        _("Service network"),
        "ti-building-community",
        (
            Item(
                "network:dashboard", _("Network overview"), "network.view_facility", "ti-chart-pie"
            ),
            Item(
                "network:facilities",
                _("Facilities"),
                "network.view_facility",
                "ti-home-2",
                ("network:facility", "network:facility_create", "network:facility_edit"),
            ),
            Item(
                "network:organisations",
                _("Social organisations"),
                "network.view_socialorganisation",
                "ti-users-group",
            ),
            Item(
                "network:standards",
                _("Staffing standards"),
                "network.view_staffingstandard",
                "ti-ruler-2",
            ),
            Item(
                "network:import", _("Import facilities"), "network.add_facility", "ti-file-import"
            ),
            Item("geo:browser", _("Divisions"), None, "ti-map-2", ("geo:detail", "geo:search")),
        ),
    ),
    Group(
        _("Workforce"),
        "ti-id-badge-2",
        (
            Item(
                "workforce:dashboard",
                _("Workforce overview"),
                "network.view_facility",
                "ti-chart-bar",
            ),
            Item(
                "workforce:workers",
                _("Social workers"),
                "workforce.view_socialworker",
                "ti-address-book",
                ("workforce:worker",),
            ),
            Item(
                "workforce:training",
                _("Training"),
                "workforce.view_course",
                "ti-school",
                ("workforce:course",),
            ),
            Item("workforce:honours", _("Honours"), "workforce.view_awardscheme", "ti-award"),
            Item(
                "workforce:universities",
                _("Universities"),
                "workforce.view_university",
                "ti-building",
            ),
            Item("workforce:dispatches", _("Dispatches"), "workforce.view_dispatch", "ti-send"),
            Item(
                "workforce:import",
                _("Import social workers"),
                "workforce.add_socialworker",
                "ti-file-import",
            ),
        ),
    ),
    Group(
        _("Money and projects"),
        "ti-coin-yuan",
        (
            Item("funding:ledger", _("Funding ledger"), "funding.view_movement", "ti-report-money"),
            Item(
                "funding:accounts",
                _("Accounts"),
                "funding.view_account",
                "ti-wallet",
                ("funding:account",),
            ),
            Item(
                "funding:one_percent",
                _("The 1 % rule"),
                "funding.view_assistancespending",
                "ti-percentage",
            ),
            Item(
                "projects:list",
                _("Service projects"),
                "projects.view_project",
                "ti-briefcase",
                ("projects:detail",),
            ),
        ),
    ),
    Group(
        _("Services to residents"),
        "ti-heart-handshake",
        (
            Item("casework:home", _("My work"), "casework.view_servicerecord", "ti-checklist"),
            Item(
                "casework:residents",
                _("Residents"),
                "casework.view_resident",
                "ti-users",
                ("casework:resident", "casework:resident_new", "casework:resident_edit"),
            ),
            Item(
                "casework:cases",
                _("Cases"),
                "casework.view_case",
                "ti-folder",
                ("casework:case", "casework:case_new"),
            ),
            Item(
                "casework:groups",
                _("Groups"),
                "casework.view_workgroup",
                "ti-circles",
                ("casework:group", "casework:group_new"),
            ),
            Item(
                "casework:activities",
                _("Community activities"),
                "casework.view_activity",
                "ti-confetti",
                ("casework:activity", "casework:activity_new"),
            ),
            Item(
                "casework:records",
                _("Service records"),
                "casework.view_servicerecord",
                "ti-notes",
                ("casework:record", "casework:record_new"),
            ),
            Item(
                "casework:referrals",
                _("Referrals"),
                "casework.view_referral",
                "ti-arrows-exchange",
                ("casework:referral", "casework:referral_new"),
            ),
        ),
    ),
    Group(
        _("Statistics"),
        "ti-chart-histogram",
        (
            Item(
                "casework:stats",
                _("Service statistics"),
                "casework.view_servicestats",
                "ti-chart-line",
            ),
        ),
    ),
    Group(
        _("Administration"),
        "ti-settings",
        (
            Item(
                "accounts:users",
                _("Users"),
                "accounts.view_user",
                "ti-user-cog",
                ("accounts:user_create", "accounts:user_edit", "accounts:user_import"),
            ),
            Item("core:audit", _("Audit trail"), "core.view_auditevent", "ti-shield-check"),
            Item("accounts:tokens", _("API tokens"), None, "ti-key"),
        ),
    ),
)


def navigation_for(user, view_name: str | None) -> list[dict]:
    """The groups and items ``user`` may open, the current page's item marked ``active``."""
    groups = []
    for group in NAVIGATION:
        items = []
        for item in group.items:
            if item.perm is not None and not user.has_perm(item.perm):
                continue
            active = view_name == item.url_name or view_name in item.also
            items.append(
                {
                    "url": reverse(item.url_name),
                    "label": item.label,
                    "icon": item.icon,
                    "active": active,
                }
            )
        if items:
            groups.append(
                {
                    "label": group.label,
                    "icon": group.icon,
                    "items": items,
                    "active": any(i["active"] for i in items),
                }
            )
    return groups
