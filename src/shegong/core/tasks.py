"""The one background task of imports: run a queued import job of any registered kind
(``core.jobs.register_import``); ``shegong db_worker`` runs it."""

from __future__ import annotations

from django.tasks import task

from shegong.core.jobs import job_run, run_registered


@task()
def import_job_task(job_id: int) -> str:
    """Run a queued import job (a second delivery of the task does nothing)."""
    return job_run(job_id, run_registered)
