"""The network's background import (facilities from .xlsx), run as an import job
(``core.jobs``); registered when the app is ready."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shegong.core.jobs import register_import

FACILITY_IMPORT_KIND = "network.facilities"


def _import_facilities(*, actor, data, filename, progress, origin):
    from shegong.network.io import import_facilities

    return import_facilities(actor=actor, data=data, filename=filename, progress=progress)


def register() -> None:
    register_import(
        FACILITY_IMPORT_KIND,
        perm="network.add_facility",
        run=_import_facilities,
        label=_("Facilities"),
    )
