"""The group list, declared (``core.lists``): by stage, sorted by name in pinyin, with
member and session counts; the .xlsx export holds counts only, never a resident."""

from __future__ import annotations

import django_filters
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.casework import privacy
from shegong.casework.models import GroupStage, WorkGroup
from shegong.casework.selectors.records import group_list
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.xlsx import xlsx_response

STAGE_TONES = {
    GroupStage.PREPARATION: "muted",
    GroupStage.FORMATION: "info",
    GroupStage.TRANSITION: "info",
    GroupStage.MATURITY: "ok",
    GroupStage.ENDING: "warn",
}


class GroupFilter(FilterSet):
    stage = django_filters.ChoiceFilter(
        label=gettext_lazy("Stage"),
        choices=GroupStage.choices,
        empty_label=gettext_lazy("All stages"),
    )

    class Meta:
        model = WorkGroup
        fields = []


GROUP_TABLE = Table(
    columns=(
        Col(
            "name",
            gettext_lazy("Name"),
            "name",
            sort="pinyin:name",
            link=lambda g: reverse("casework:group", args=[g.pk]),
            title=True,
        ),
        Col("type", gettext_lazy("Group type"), lambda g: g.get_group_type_display()),
        Col(
            "stage",
            gettext_lazy("Stage"),
            lambda g: g.get_stage_display(),
            sort="stage",
            kind="tag",
            tone=lambda g: STAGE_TONES.get(g.stage, "muted"),
        ),
        Col("members", gettext_lazy("Members"), "member_count", sort="member_count", kind="num"),
        Col(
            "sessions",
            gettext_lazy("Sessions"),
            lambda g: f"{g.session_count} / {g.planned_sessions}",
            sort="session_count",
        ),
        Col("leader", gettext_lazy("Leader"), lambda g: str(g.leader)),
        Col("facility", gettext_lazy("Run by"), "facility.name", sort="pinyin:facility__name"),
        Col("started", gettext_lazy("Start"), "started_on", sort="started_on", kind="date"),
    ),
    default_sort="-started",
    testid="group-table",
    row_attrs=lambda g: {"data-group": g.pk},
)


def export_groups(request, groups):
    """The filtered list as .xlsx: counts only (members, sessions), no resident."""

    def rows():
        for g in groups.select_related("facility__division").iterator(chunk_size=1000):
            yield (
                g.name,
                g.get_group_type_display(),
                g.get_stage_display(),
                g.get_target_group_display() if g.target_group else "",
                g.member_count,
                g.session_count,
                g.planned_sessions,
                str(g.leader),
                g.started_on,
                g.facility.name,
                g.facility.division.code,
            )

    headers = [
        _("Name"),
        _("Group type"),
        _("Stage"),
        _("Target group"),
        _("Members"),
        _("Sessions held"),
        _("Planned sessions"),
        _("Leader"),
        _("Start"),
        _("Run by"),
        _("Division code"),
    ]
    name = f"groups-{timezone.localdate():%Y%m%d}.xlsx"
    return privacy.no_store(xlsx_response(name, str(_("Groups")), headers, rows()))


def _actions(request):
    if request.user.has_perm("casework.add_workgroup"):
        return [(reverse("casework:group_new"), _("New group"), "ti-plus")]
    return []


group_list_page = ListPage(
    title=gettext_lazy("Groups"),
    table=GROUP_TABLE,
    queryset=lambda request: group_list(user=request.user),
    filterset=GroupFilter,
    export_name="groups",
    empty_text=gettext_lazy("No groups yet."),
    actions=_actions,
    on_export=export_groups,
    no_store=True,
)
