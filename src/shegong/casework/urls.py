"""Casework pages: each part's module declares its patterns (see ``views/``)."""

from shegong.casework.views import cases, groups, records, referrals, residents

app_name = "casework"
urlpatterns = [
    *residents.urlpatterns,
    *cases.urlpatterns,
    *groups.urlpatterns,
    *records.urlpatterns,
    *referrals.urlpatterns,
]
