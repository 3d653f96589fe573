"""API of background import jobs: start an import of any kind, follow one job's status,
progress and report, and fetch the file it gave back."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from shegong.core.audit import audit_record
from shegong.core.inputs import Id, Word
from shegong.core.jobs import IMPORT_KINDS, job_result
from shegong.core.models import ImportJob
from shegong.core.permissions import check_perm
from shegong.core.scoping import VIEW, get_scoped_or_404
from shegong.core.tasks import import_start
from shegong.core.xlsx import MAX_UPLOAD_BYTES, xlsx_bytes_response

router = Router(tags=["jobs"])


class JobError(Schema):
    line: int
    reason: str


class JobOut(Schema):
    """A job as its creator sees it; ``errors`` holds at most the first 1,000 bad rows,
    ``error_count`` all of them."""

    id: int
    kind: str
    status: ImportJob.Status
    filename: str
    phase: str
    total_rows: int
    done_rows: int
    percent: int
    created: int
    unchanged: int
    error_count: int
    errors: list[JobError]
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result_name: str
    result_expires_at: datetime | None


def _job(request, job_id: int) -> ImportJob:
    return get_scoped_or_404(ImportJob.objects.defer("data"), request.user, VIEW, pk=job_id)


@router.get("/jobs/{job_id}", response=JobOut, summary="A background import job")
def get_job(request, job_id: Id):
    return _job(request, job_id)


@router.post(
    "/imports/{kind}",
    response={202: JobOut},
    summary="Import an .xlsx file of a kind (a background job; follow it at /jobs/{id})",
    description="Kinds: network.facilities, workforce.postings, workforce.social_workers, "
    "accounts.users. At most 20 MB and 100,000 rows; the template of each kind is on its "
    "import page.",
)
def start_import(request, kind: Word, file: File[UploadedFile] = None):
    if kind not in IMPORT_KINDS:
        raise Http404
    check_perm(request.auth, IMPORT_KINDS[kind].perm)
    if file is None:
        raise ValidationError({"file": _("Choose an .xlsx file.")})
    if file.size is not None and file.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": _("The file is larger than 20 MB.")})
    job = import_start(
        actor=request.auth,
        kind=kind,
        filename=file.name or "",
        data=file.read(MAX_UPLOAD_BYTES + 1),
        origin=request.build_absolute_uri("/").rstrip("/"),
    )
    return Status(202, job)


@router.get(
    "/jobs/{job_id}/result",
    summary="The file a job gave back (e.g. one-time set-password links): its creator only",
)
def get_job_result(request, job_id: Id):
    job = _job(request, job_id)
    data = job_result(job) if job.created_by_id == request.auth.pk else None
    if data is None:
        raise Http404
    audit_record(actor=request.auth, action="import_job.result_download", target=job)
    return xlsx_bytes_response(job.result_name or f"job-{job.pk}.xlsx", data)
