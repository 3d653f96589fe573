"""Queueing an import, and the one background task that runs a queued import job of any
registered kind (``core.jobs.register_import``); ``shegong db_worker`` runs it."""

from __future__ import annotations

from django.tasks import task

from shegong.core.jobs import IMPORT_KINDS, import_job_create, job_run, run_registered
from shegong.core.models import ImportJob


@task()
def import_job_task(job_id: int) -> str:
    """Run a queued import job (a second delivery of the task does nothing)."""
    return job_run(job_id, run_registered)


def import_start(*, actor, kind: str, filename: str, data: bytes, origin: str = "") -> ImportJob:
    """Queue the import of an uploaded file; its page (``core:job``) follows it.

    Refuses (``PermissionDenied``, naming it) a role without the kind's permission and
    (``ValidationError``) a file that is too large or is not an .xlsx workbook."""
    spec = IMPORT_KINDS[kind]
    return import_job_create(
        actor=actor,
        kind=kind,
        filename=filename,
        data=data,
        perm=spec.perm,
        enqueue=lambda job_id: import_job_task.enqueue(job_id),
        origin=origin,
    )
