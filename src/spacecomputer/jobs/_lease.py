"""A run's lease on its job, and the SQL both the queue (async) and a worker's process (blocking) use to check it.

:meth:`~spacecomputer.jobs.JobQueue.claim` sets ``worker_id`` and adds one to ``attempts``; the triple
``(job id, worker id, attempt)`` then identifies that run. Every later write of the run is conditioned on it
(:func:`lease_filter`), so a run whose job was taken from it writes nothing.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from spacecomputer.errors import InvalidInputError
from spacecomputer.storage import Analysis, Job, JobStatus, utc_now

__all__ = ["JobControl", "JobLease", "analysis_update", "lease_filter"]


class JobControl(enum.StrEnum):
    """What a running job's worker should do after reporting a heartbeat or progress."""

    CONTINUE = "continue"
    CANCEL = "cancel"
    """Cancellation was requested: stop and confirm with :meth:`JobQueue.mark_cancelled`."""
    LOST = "lost"
    """The lease is no longer valid (requeued, released, finished elsewhere): stop and report nothing."""


@dataclass(frozen=True)
class JobLease:
    """The right of one run of a job to report on it: job id, the claiming worker and its attempt number."""

    job_id: uuid.UUID
    worker_id: str
    attempt: int

    @classmethod
    def of(cls, job: Job) -> JobLease:
        """Return the lease of a job just returned by :meth:`JobQueue.claim`."""
        if job.status != JobStatus.RUNNING or job.worker_id is None:
            raise InvalidInputError(f"job {job.id} is {job.status}, not running under a worker: it has no lease")
        return cls(job.id, job.worker_id, job.attempts)


def lease_filter(lease: JobLease) -> sa.ColumnElement[bool]:
    """Return the SQL condition "this job is still running under ``lease``"."""
    return sa.and_(
        Job.id == lease.job_id,
        Job.status == JobStatus.RUNNING,
        Job.worker_id == lease.worker_id,
        Job.attempts == lease.attempt,
    )


def analysis_update(job_id: uuid.UUID, **values: Any) -> sa.Update:
    """Return the ``UPDATE`` that makes the analysis computed by ``job_id`` (if any) follow its job."""
    return sa.update(Analysis).where(Analysis.job_id == job_id).values(updated_at=utc_now(), **values)
