"""The workforce's background imports, run as import jobs (``core.jobs``): the bulk
onboarding of social workers and the postings of registered people. Registered when the app
is ready; ``shegong db_worker`` runs them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shegong.core.jobs import register_import
from shegong.core.models import ImportJob
from shegong.core.tasks import import_start

WORKER_IMPORT_KIND = "workforce.social_workers"
POSTING_IMPORT_KIND = "workforce.postings"


def _import_workers(*, actor, data, filename, progress, origin):
    from shegong.workforce.io import import_social_workers

    return import_social_workers(actor=actor, data=data, progress=progress, filename=filename)


def _import_postings(*, actor, data, filename, progress, origin):
    from shegong.workforce.io import import_postings

    return import_postings(actor=actor, data=data, progress=progress, filename=filename)


def register() -> None:
    register_import(
        WORKER_IMPORT_KIND,
        perm="workforce.add_socialworker",
        run=_import_workers,
        label=_("Social workers"),
    )
    register_import(
        POSTING_IMPORT_KIND, perm="workforce.add_posting", run=_import_postings, label=_("Postings")
    )


def worker_import_start(*, actor, filename: str, data: bytes) -> ImportJob:
    """Queue the import of a social-worker sheet; the job page (``core:job``) follows it.

    Refuses (``PermissionDenied``) a role that may not register social workers, and
    (``ValidationError``) a file over 20 MB or that is not an .xlsx workbook.
    """
    return import_start(actor=actor, kind=WORKER_IMPORT_KIND, filename=filename, data=data)
