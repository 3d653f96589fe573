"""The API at /api/v1/: one NinjaAPI with each app's router. Its title and description are
in the reader's language (the docs page and the OpenAPI document)."""

from django.utils.translation import gettext_lazy as _

from shegong.accounts.api import router as accounts_router
from shegong.casework.api import router as casework_router
from shegong.core.api import (
    ShegongAPI,
    TokenAuth,
    install_error_handlers,
    session_auth,
    signed_in_or_token,
)
from shegong.core.jobs_api import router as jobs_router
from shegong.funding.api import router as funding_router
from shegong.geo.api import router as geo_router
from shegong.network.api import router as network_router
from shegong.projects.api import router as projects_router
from shegong.workforce.api import router as workforce_router

api = ShegongAPI(
    title=_("Shegong API"),
    version="1",
    description=_(
        "Scoped access to the three-tier social work service system: each user and each "
        "token sees only their own area."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), session_auth],
    docs_url="/docs",
    docs_decorator=signed_in_or_token,  # the schema and docs: a bearer token or a session
)
install_error_handlers(api)
api.add_router("", accounts_router)
api.add_router("", jobs_router)
api.add_router("", geo_router)
api.add_router("", network_router)
api.add_router("", workforce_router)
api.add_router("", projects_router)
api.add_router("", funding_router)
api.add_router("", casework_router)
