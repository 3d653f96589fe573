"""URL configuration: pages per app, the API at /api/v1/, language switching."""

from django.urls import include, path
from django.views.i18n import set_language

from shegong.config.api import api
from shegong.core.views import favicon

urlpatterns = [
    path("", include("shegong.core.urls")),
    path("accounts/", include("shegong.accounts.urls")),
    path("divisions/", include("shegong.geo.urls")),
    path("network/", include("shegong.network.urls")),
    path("funding/", include("shegong.funding.urls")),
    path("workforce/", include("shegong.workforce.urls")),
    path("projects/", include("shegong.projects.urls")),
    path("casework/", include("shegong.casework.urls")),
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    # browsers ask for /favicon.ico on their own: the platform's icon is an SVG
    path("favicon.ico", favicon, name="favicon"),
]

handler403 = "shegong.core.views.error_403"
handler404 = "shegong.core.views.error_404"
handler500 = "shegong.core.views.error_500"
