"""Background import jobs: create one for an uploaded file, run it in a task, record its
progress and its report.

A job is created in the request's transaction and its task enqueued with ``on_commit``;
the task (``job_run``) claims the job (queued → running) so that running it twice does
nothing the second time, reports progress in autocommit (visible while it validates), and
ends succeeded (the report stored, even if every row was refused) or failed (an exception:
the import's own transaction rolled back, so nothing was written).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.models import ImportJob
from shegong.core.permissions import check_perm
from shegong.core.xlsx import ImportReport, SheetError, check_workbook

logger = logging.getLogger("shegong.jobs")

PROGRESS_EVERY = 1000

# progress(done_rows, total_rows, phase)
Progress = Callable[[int, int, str], None]


def check_xlsx_upload(*, filename: str, data: bytes) -> None:
    """Refuse a file that is too large or is not an .xlsx workbook, saying what to do (a
    legacy .xls, an .ods or a CSV is to be saved as .xlsx)."""
    try:
        check_workbook(data, filename or "upload.xlsx")
    except SheetError as exc:
        raise ValidationError({"file": str(exc)}) from exc


def import_job_create(
    *, actor, kind: str, filename: str, data: bytes, perm: str, enqueue: Callable[[int], Any]
) -> ImportJob:
    """Record an upload as a queued job and enqueue its task once the job is committed."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied
    check_perm(actor, perm)
    check_xlsx_upload(filename=filename, data=data)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            filename=(filename or "upload.xlsx")[-255:],
            data=data,
            created_by=actor,
            division=actor.division,
            phase=_("Waiting for a worker"),
        )
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def _store_progress(job_id: int, done: int, total: int, phase: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        done_rows=done, total_rows=max(total, done), phase=phase[:100]
    )


# A job still "running" this long after it started was left by a worker that stopped
# (the largest imports take a minute or two).
STALE_AFTER = timedelta(hours=1)


def jobs_fail_stale(now=None) -> int:
    """Mark failed the jobs a stopped worker left "running": their import ran in one
    transaction, so nothing of theirs was written. Returns how many."""
    now = now or timezone.now()
    return ImportJob.objects.filter(
        status=ImportJob.Status.RUNNING, started_at__lt=now - STALE_AFTER
    ).update(
        status=ImportJob.Status.FAILED,
        finished_at=now,
        phase="",
        message=_(
            "The worker stopped during the import; nothing was written. Import the file again."
        ),
        data=b"",
    )


def job_run(job_id: int, work: Callable[[ImportJob, Progress], ImportReport]) -> str:
    """Run ``work`` for a queued job once; return the job's final status.

    A job that is not queued (already run, or running in another worker) is left alone,
    so a task delivered twice does the work once. Jobs a stopped worker left running are
    marked failed first.
    """
    jobs_fail_stale()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), phase=_("Starting")
    )
    if not claimed:
        job = ImportJob.objects.filter(pk=job_id).first()
        return job.status if job else ""
    job = ImportJob.objects.select_related("created_by", "division").get(pk=job_id)

    def progress(done: int, total: int, phase: str) -> None:
        _store_progress(job_id, done, total, phase)

    try:
        report = work(job, progress)
    except Exception:
        logger.exception("import job %s (%s) failed", job_id, job.kind)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED,
            finished_at=timezone.now(),
            phase="",
            message=_("The import failed unexpectedly; nothing was written. Try again later."),
            data=b"",
        )
        raise
    errors = [{"line": line, "reason": reason} for line, reason in report.errors]
    total = report.rows
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportJob.Status.SUCCEEDED,
        finished_at=timezone.now(),
        phase="",
        total_rows=total,
        done_rows=total,
        created=report.created,
        unchanged=report.unchanged,
        error_count=len(errors),
        errors=errors[: ImportJob.MAX_STORED_ERRORS],
        message=(
            _("Nothing was written: correct the rows below and import the file again.")
            if errors
            else ""
        ),
        data=b"",
    )
    return ImportJob.Status.SUCCEEDED
