"""Background tasks of the workforce: the bulk onboarding of social workers from .xlsx.

``worker_import_start`` records the upload as a ``core.ImportJob`` and enqueues
``import_social_workers_task`` once the job is committed; ``shegong db_worker`` runs it.
"""

from __future__ import annotations

from django.tasks import task
from django.utils.translation import gettext as _

from shegong.core.jobs import import_job_create, job_run
from shegong.core.models import ImportJob
from shegong.core.xlsx import ImportReport
from shegong.workforce.io import import_social_workers

WORKER_IMPORT_KIND = "workforce.social_workers"


@task()
def import_social_workers_task(job_id: int) -> str:
    """Run a queued social-worker import job (a second delivery of the task does nothing)."""
    return job_run(job_id, _run_import)


def _run_import(job: ImportJob, progress) -> ImportReport:
    actor = job.created_by
    if actor is None or not actor.is_active:
        # never run without an actor: the import would not be scoped
        return ImportReport(errors=[(1, _("The user who started the import is not active."))])
    return import_social_workers(
        actor=actor, data=bytes(job.data), progress=progress, filename=job.filename
    )


def worker_import_start(*, actor, filename: str, data: bytes) -> ImportJob:
    """Queue the import of a social-worker sheet; the job page (``core:job``) follows it.

    Refuses (``PermissionDenied``) a role that may not register social workers, and
    (``ValidationError``) a file over 20 MB or that is not an .xlsx workbook.
    """
    return import_job_create(
        actor=actor,
        kind=WORKER_IMPORT_KIND,
        filename=filename,
        data=data,
        perm="workforce.add_socialworker",
        enqueue=lambda job_id: import_social_workers_task.enqueue(job_id),
    )
