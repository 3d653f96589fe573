"""Background import jobs: create one for an uploaded file, run it in a task, record its
progress and its report.

Every .xlsx import runs this way, never inside a web request (issue #12 item 4): an app
registers each kind of import once (``register_import``: the permission it needs and the
function that imports a file), ``core.tasks.import_start`` records the upload as a queued
job, and the one task ``core.tasks.import_job_task`` runs it in ``shegong db_worker``.

A job is created in the request's transaction and its task enqueued with ``on_commit``;
the task (``job_run``) claims the job (queued → running) so that running it twice does
nothing the second time, reports progress in autocommit (visible while it validates), and
ends succeeded (the report stored, even if every row was refused) or failed (an exception:
the import's own transaction rolled back, so nothing was written). An import may give a
file back (``ImportReport.result``, e.g. set-password links): it is stored encrypted for the
job's creator until it expires.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shegong.core.models import ImportJob
from shegong.core.permissions import MissingPermission, check_perm
from shegong.core.xlsx import ImportReport, SheetError, check_workbook

logger = logging.getLogger("shegong.jobs")

PROGRESS_EVERY = 1000

# progress(done_rows, total_rows, phase)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ImportKind:
    """A kind of import: the permission it needs, and ``run(actor=, data=, filename=,
    progress=, origin=)`` returning an ``ImportReport``."""

    perm: str
    run: Callable[..., ImportReport]
    label: Any = ""


IMPORT_KINDS: dict[str, ImportKind] = {}


def register_import(kind: str, *, perm: str, run: Callable[..., ImportReport], label="") -> None:
    """Declare a kind of import (called by the apps when they are ready)."""
    IMPORT_KINDS[kind] = ImportKind(perm, run, label)


def run_registered(job: ImportJob, progress: Progress) -> ImportReport:
    """Run a job's registered import as the user who started it."""
    actor = job.created_by
    if actor is None or not actor.is_active:
        # never run without an actor: the import would not be scoped
        return ImportReport(errors=[(1, _("The user who started the import is not active."))])
    spec = IMPORT_KINDS[job.kind]
    if not actor.has_perm(spec.perm):
        return ImportReport(errors=[(1, str(MissingPermission(spec.perm)))])
    return spec.run(
        actor=actor,
        data=bytes(job.data),
        filename=job.filename,
        progress=progress,
        origin=job.origin,
    )


def check_xlsx_upload(*, filename: str, data: bytes) -> None:
    """Refuse a file that is too large or is not an .xlsx workbook, saying what to do (a
    legacy .xls, an .ods or a CSV is to be saved as .xlsx)."""
    try:
        check_workbook(data, filename or "upload.xlsx")
    except SheetError as exc:
        raise ValidationError({"file": str(exc)}) from exc


def import_job_create(
    *,
    actor,
    kind: str,
    filename: str,
    data: bytes,
    perm: str,
    enqueue: Callable[[int], Any],
    origin: str = "",
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
            origin=origin[:200],
        )
        transaction.on_commit(lambda: enqueue(job.pk))
    return job


def _store_progress(job_id: int, done: int, total: int, phase: str) -> None:
    ImportJob.objects.filter(pk=job_id).update(
        done_rows=done, total_rows=max(total, done), phase=phase[:100]
    )


# How long a result file (e.g. one-time links, which expire themselves) stays available.
RESULT_KEPT = timedelta(hours=72)

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
    jobs_drop_expired_results()
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
    result = {}
    if report.result and not errors:
        result = {
            "result": base64.b64encode(report.result).decode("ascii"),
            "result_name": report.result_name[:100],
            "result_expires_at": timezone.now() + RESULT_KEPT,
        }
    ImportJob.objects.filter(pk=job_id).update(
        **result,
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


def job_result(job: ImportJob) -> bytes | None:
    """The file a finished job gave back, while it is kept; None otherwise."""
    if not job.result or job.result_expires_at is None or job.result_expires_at <= timezone.now():
        return None
    return base64.b64decode(job.result)


def jobs_drop_expired_results(now=None) -> int:
    """Drop the result files past their time (run with every job)."""
    now = now or timezone.now()
    return ImportJob.objects.filter(result_expires_at__lte=now).update(
        result="", result_expires_at=None
    )
