"""API of background import jobs: one job's status, progress and report."""

from datetime import datetime

from ninja import Router, Schema

from shegong.core.inputs import Id
from shegong.core.models import ImportJob
from shegong.core.scoping import VIEW, get_scoped_or_404

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


@router.get("/jobs/{job_id}", response=JobOut, summary="A background import job")
def get_job(request, job_id: Id):
    return get_scoped_or_404(ImportJob.objects.defer("data"), request.user, VIEW, pk=job_id)
