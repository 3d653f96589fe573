"""The residents' declared list (``core.lists``).

IDs and phones are masked in the list for every role (the full value only on the
resident's page, on request, logged). A name is searched by POST (``views.residents``) and
kept in the session: the URL carries a random key (``s``), never the name; an exact ID
search is answered in the POST's response (``id_found`` on the request).
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shegong.casework import privacy
from shegong.casework.models import Resident, SpecialGroup, SpecialStatus
from shegong.casework.selectors.residents import (
    _in_age_band,
    current_statuses_q,
    residents_in_scope,
)
from shegong.core.forms import style_widgets
from shegong.core.lists import Col, FilterSet, ListPage, Table
from shegong.core.validators import mask_national_id, mask_phone
from shegong.core.xlsx import xlsx_response
from shegong.geo.models import Division, Level

SEARCH_SESSION_KEY = "casework_resident_searches"
# Up to this many communities in scope, the community filter is a drop-down.
COMMUNITY_CHOICES_MAX = 500

AGE_BAND_LABELS = {
    "under_14": gettext_lazy("Under 14"),
    "under_18": gettext_lazy("Under 18"),
    "adult": gettext_lazy("18 to 59"),
    "elder": gettext_lazy("60 and over"),
}


def communities_in_scope(user, limit: int = 3000) -> list[tuple[str, str]]:
    """The communities in ``user``'s scope (code, label), for a chooser (at most
    ``limit``)."""
    prefix = user.scope_prefix
    if not prefix:
        return []
    rows = (
        Division.objects.filter(level=Level.COMMUNITY, code__startswith=prefix)
        .order_by("code")
        .values_list("code", "name")[:limit]
    )
    return [(code, f"{name} ({code})") for code, name in rows]


class ResidentFilter(FilterSet):
    community = django_filters.CharFilter(
        label=gettext_lazy("Community"), method="in_community", max_length=12
    )
    group = django_filters.ChoiceFilter(
        label=gettext_lazy("Special group"),
        choices=SpecialGroup.choices,
        empty_label=gettext_lazy("Any special group"),
        method="holding",
    )
    age = django_filters.ChoiceFilter(
        label=gettext_lazy("Age"),
        choices=list(AGE_BAND_LABELS.items()),
        empty_label=gettext_lazy("Any age"),
        method="in_age_band",
    )

    class Meta:
        model = Resident
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        django_filters.FilterSet.__init__(self, *args, request=request, **kwargs)
        communities = communities_in_scope(request.user, limit=COMMUNITY_CHOICES_MAX + 1)
        if len(communities) <= COMMUNITY_CHOICES_MAX:
            self.filters["community"] = django_filters.ChoiceFilter(
                label=gettext_lazy("Community"),
                choices=communities,
                empty_label=gettext_lazy("All communities in my area"),
                method="in_community",
            )
        style_widgets(self.form)

    def in_community(self, queryset, name, value):
        code = (value or "").strip()
        if not code.isdigit():
            return queryset
        return queryset.filter(community__code__startswith=code)

    def holding(self, queryset, name, value):
        today = timezone.localdate()
        held = SpecialStatus.objects.filter(resident=OuterRef("pk"), group=value).filter(
            current_statuses_q(today)
        )
        return queryset.filter(Exists(held))

    def in_age_band(self, queryset, name, value):
        try:
            return _in_age_band(queryset, value, timezone.localdate())
        except ValidationError as exc:
            self.form.add_error("age", exc.messages)
            return queryset


def _age(resident: Resident):
    if resident.anonymised_at is not None:
        return None
    return resident.age_on(timezone.localdate())


def _masked_id(resident: Resident) -> str:
    return "—" if resident.anonymised_at else mask_national_id(resident.national_id)


def _masked_phone(resident: Resident) -> str:
    if resident.anonymised_at or not resident.phone:
        return ""
    return mask_phone(resident.phone)


def _groups(resident: Resident) -> str:
    return "、".join(str(s.get_group_display()) for s in getattr(resident, "current_statuses", []))


RESIDENT_TABLE = Table(
    columns=(
        Col(
            "name",
            gettext_lazy("Full name"),
            "name",
            sort=("name_pinyin", "name"),
            link=lambda r: reverse("casework:resident", args=[r.pk]),
            title=True,
            testid="resident-name",
        ),
        Col("national_id", gettext_lazy("National ID"), _masked_id, testid="national-id"),
        Col("age", gettext_lazy("Age"), _age, kind="num"),
        Col("phone", gettext_lazy("Phone"), _masked_phone, testid="phone"),
        Col("community", gettext_lazy("Community"), "community.name", sort="community__code"),
        Col("groups", gettext_lazy("Special groups"), _groups, wrap=True),
    ),
    default_sort="name",
    testid="resident-table",
)


def saved_search(request) -> str:
    """The name searched under the list URL's key ``s`` (kept in the session)."""
    key = request.GET.get("s", "")
    if not key:
        return ""
    return request.session.get(SEARCH_SESSION_KEY, {}).get(key, "")


def _residents(request):
    today = timezone.localdate()
    found = getattr(request, "id_found", False)
    qs = residents_in_scope(request.user).select_related("community").defer("notes")
    if found is not False:  # an exact ID search (POST)
        qs = qs.filter(pk=found.pk) if found is not None else qs.none()
    elif query := saved_search(request):
        qs = qs.filter(name__icontains=query)
    return qs.prefetch_related(
        Prefetch(
            "statuses",
            queryset=SpecialStatus.objects.filter(current_statuses_q(today)).order_by("group"),
            to_attr="current_statuses",
        )
    )


def _actions(request):
    if request.user.has_perm("casework.add_resident"):
        return [(reverse("casework:resident_new"), _("Register a resident"), "ti-user-plus")]
    return []


def _context(request) -> dict:
    id_search = getattr(request, "id_found", False) is not False
    return {
        "export": privacy.may_export_personal(request.user) and not id_search,
        "id_search": id_search,
        "id_searched_masked": getattr(request, "id_searched_masked", ""),
        "query_active": bool(saved_search(request)),
    }


def _export(request, rows):
    """Only for roles that may export personal data, at most ``EXPORT_CAP`` rows, logged;
    IDs and phones as the role sees them."""
    user = request.user
    if not privacy.may_export_personal(user):
        privacy.log_access(user, "export", None, allowed=False, detail={"reason": "permission"})
        raise PermissionDenied
    count = rows.count()
    logged = {k: v for k, v in request.GET.items() if k in ("community", "group", "age")}
    if saved_search(request):
        logged["search"] = "name"
    if count > privacy.EXPORT_CAP:
        privacy.log_access(
            user, "export", None, allowed=False, detail={"rows": count, "filters": logged}
        )
        from django.contrib import messages

        messages.error(
            request,
            _("The export is limited to %(cap)d residents; narrow the list first.")
            % {"cap": privacy.EXPORT_CAP},
        )
        query = request.GET.copy()
        query.pop("format", None)
        url = reverse("casework:residents")
        return redirect(f"{url}?{query.urlencode()}" if query else url)
    privacy.log_access(user, "export", None, detail={"rows": count, "filters": logged})
    sexes = {"male": _("male"), "female": _("female")}
    today = timezone.localdate()
    sees = privacy.sees_identity(user)

    def shown(r):
        if r.anonymised_at is not None:
            return "—", "—"
        if not sees or (privacy.is_protected_child(r, today) and not privacy.may_open(user, r)):
            return r.national_id_masked, (r.phone_masked if r.phone else "")
        return r.national_id, r.phone or ""

    def values():
        for r in rows.iterator(chunk_size=1000):
            national_id, phone = shown(r)
            yield (
                r.pk,
                r.name,
                national_id,
                "" if r.anonymised_at else sexes.get(r.sex, ""),
                _age(r),
                phone,
                r.community.code,
                r.community.name,
                _groups(r),
            )

    headers = [
        _("Row id"),
        _("Name"),
        _("National ID"),
        _("Sex"),
        _("Age"),
        _("Phone"),
        _("Community code"),
        _("Community"),
        _("Special groups"),
    ]
    return privacy.no_store(
        xlsx_response(f"residents-{today:%Y%m%d}.xlsx", str(_("Residents")), headers, values())
    )


resident_list_page = ListPage(
    title=gettext_lazy("Residents"),
    table=RESIDENT_TABLE,
    queryset=_residents,
    filterset=ResidentFilter,
    export_name="residents",
    template="casework/resident_list.html",
    empty_text=gettext_lazy("No resident matches."),
    actions=_actions,
    on_export=_export,
    context=_context,
    no_store=True,
)
