"""The durable job queue: the ``jobs`` table as a queue that several workers share safely.

Life cycle (``Job.status``)::

    enqueue ─► queued ──claim──► running ──succeed──► succeeded
                 ▲  │              │ ├──fail(retryable, attempts < max)──► queued (again)
                 │  │              │ ├──fail (otherwise)────────────────► failed
                 │  │              │ ├──cancel ► cancel_requested … ► mark_cancelled ► cancelled
                 │  │              │ ├──release (runner stopping) ─────► queued, attempt refunded
                 │  │              │ └──no heartbeat for timeout_s ───► queued (attempt counted) or failed
                 │  └──cancel────────────────────────────────────────► cancelled
                 └──────────────────┘

Leases
------
:meth:`JobQueue.claim` sets ``worker_id``, adds one to ``attempts`` and returns the row; ``(job id, worker id,
attempt)`` is the :class:`JobLease` that every later transition of that run must present. A worker whose job
was taken away from it (requeued as stale and claimed again, released, cancelled) no longer matches, so what
it reports afterwards is ignored: a job's outcome is committed exactly once, by the run that holds the lease.

Atomicity on both back ends
---------------------------
Claiming is one ``UPDATE … WHERE id = (SELECT id … WHERE status = 'queued' ORDER BY created_at LIMIT 1
FOR UPDATE SKIP LOCKED) AND status = 'queued' RETURNING …``: PostgreSQL locks the chosen row and lets other
claimers skip it; SQLite, which ignores ``FOR UPDATE``, runs the whole statement under its single write lock.
Every other transition starts its transaction with a conditional ``UPDATE`` of the row (which takes the row lock
on PostgreSQL and the write lock on SQLite) before reading anything, so two transitions of one job never
interleave and SQLite never has to upgrade a read lock (which fails at once in WAL mode instead of waiting).

Analyses
--------
An :class:`~spacecomputer.storage.Analysis` whose ``job_id`` is the job follows it in the same transaction:
status, progress, ``summary`` (the job's result) and ``error``, started and finished times.

Times come from this process's clock (UTC): workers on other machines need clocks within a small fraction of
the staleness timeout of each other.
"""

from __future__ import annotations

import builtins
import json
import logging
import math
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.errors import InvalidInputError, NotFoundError
from spacecomputer.jobs._lease import JobControl, JobLease, analysis_update, lease_filter
from spacecomputer.storage import Analysis, Database, Job, JobStatus, utc_now

__all__ = ["JobQueue"]

logger = logging.getLogger(__name__)

MAX_KIND_LENGTH = 64
"""Longest job kind, characters (``Job.kind``)."""
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _json_dict(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Return ``value`` as a plain dict after checking it is strict JSON (no NaN: PostgreSQL's JSONB refuses it)."""
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{what} must be a mapping; got {type(value).__name__}")
    try:
        return dict(json.loads(json.dumps(dict(value), allow_nan=False)))
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"{what} must be JSON-serialisable (no NaN or infinity): {error}") from None


def _check_fraction(fraction: float) -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not math.isfinite(fraction):
        raise InvalidInputError(f"progress must be a finite fraction in [0, 1]; got {fraction!r}")
    if not -1e-9 <= fraction <= 1 + 1e-9:
        raise InvalidInputError(f"progress must be a fraction in [0, 1]; got {fraction}")
    return min(1.0, max(0.0, float(fraction)))


class JobQueue:
    """The job table as a queue (module docstring): enqueue, claim, report, cancel, recover, inspect.

    Parameters
    ----------
    database
        The platform database (migrated: the ``jobs`` and ``analyses`` tables must exist).

    Examples
    --------
    ::

        queue = JobQueue(db)
        job_id = await queue.enqueue("echo", {"message": "hi"}, owner_id=None)
        job = await queue.claim("worker-1")
        await queue.succeed(JobLease.of(job), {"echo": "hi"})

    """

    def __init__(self, database: Database) -> None:
        self._db = database

    @property
    def database(self) -> Database:
        """The database the queue lives in."""
        return self._db

    async def enqueue(
        self,
        kind: str,
        payload: Mapping[str, Any],
        *,
        owner_id: uuid.UUID | None,
        max_attempts: int = 3,
        session: AsyncSession | None = None,
    ) -> uuid.UUID:
        """Add a queued job and return its id.

        Parameters
        ----------
        kind
            Handler name (``"analysis"``, ``"echo"``, …), 1–64 characters.
        payload
            The handler's input: a JSON object.
        owner_id
            The user the job belongs to; ``None`` for a system job.
        max_attempts
            Runs allowed in total (the first included) before a retryable failure becomes final.
        session
            Add the job within this session's transaction (e.g. with the :class:`~spacecomputer.storage.Analysis`
            that points at it) instead of committing it at once; the caller commits.

        """
        if not isinstance(kind, str) or not 1 <= len(kind) <= MAX_KIND_LENGTH:
            raise InvalidInputError(f"job kind must be 1–{MAX_KIND_LENGTH} characters; got {kind!r}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InvalidInputError(f"max_attempts must be a positive integer; got {max_attempts!r}")
        job = Job(kind=kind, payload=_json_dict(payload, "job payload"), owner_id=owner_id, max_attempts=max_attempts)
        if session is not None:
            session.add(job)
            await session.flush()
            return job.id
        async with self._db.session() as own, own.begin():
            own.add(job)
        return job.id

    async def claim(self, worker_id: str, *, kinds: Iterable[str] | None = None) -> Job | None:
        """Take the oldest queued job (of one of ``kinds``, if given) for ``worker_id``; ``None`` if there is none.

        The job comes back ``running``, with ``attempts`` counting this run and a fresh heartbeat; exactly one
        of any number of concurrent claimers gets a given job.
        """
        if not isinstance(worker_id, str) or not 1 <= len(worker_id) <= 128:
            raise InvalidInputError(f"worker_id must be 1–128 characters; got {worker_id!r}")
        candidate = sa.select(Job.id).where(Job.status == JobStatus.QUEUED)
        if kinds is not None:
            candidate = candidate.where(Job.kind.in_(list(kinds)))
        candidate = candidate.order_by(Job.created_at, Job.id).limit(1).with_for_update(skip_locked=True)
        now = utc_now()
        statement = (
            sa.update(Job)
            .where(Job.id == candidate.scalar_subquery(), Job.status == JobStatus.QUEUED)
            .values(
                status=JobStatus.RUNNING,
                worker_id=worker_id,
                attempts=Job.attempts + 1,
                heartbeat_at=now,
                started_at=now,
                finished_at=None,
                progress=0.0,
            )
            .returning(Job)
            .execution_options(synchronize_session=False)
        )
        async with self._db.session() as session, session.begin():
            job = (await session.execute(statement)).scalars().first()
            if job is not None:
                await session.execute(
                    analysis_update(
                        job.id,
                        status=JobStatus.RUNNING,
                        progress=0.0,
                        started_at=sa.func.coalesce(Analysis.started_at, now),
                    )
                )
        return job

    async def _take(self, session: AsyncSession, lease: JobLease) -> sa.Row[bool, int, int] | None:
        """Lock the job if ``lease`` still holds (touching its heartbeat); return its control columns."""
        statement = (
            sa.update(Job)
            .where(lease_filter(lease))
            .values(heartbeat_at=utc_now())
            .returning(Job.cancel_requested, Job.attempts, Job.max_attempts)
        )
        return (await session.execute(statement)).first()

    async def heartbeat(self, lease: JobLease) -> JobControl:
        """Record that the run under ``lease`` is alive; say whether to go on, cancel or give up."""
        async with self._db.session() as session, session.begin():
            row = await self._take(session, lease)
        if row is None:
            return JobControl.LOST
        return JobControl.CANCEL if row.cancel_requested else JobControl.CONTINUE

    async def progress(self, lease: JobLease, fraction: float, stage: str | None = None) -> JobControl:
        """Record ``fraction`` (0–1) of the run done (and a heartbeat); say whether to go on.

        ``stage`` names the step in progress; the table has no column for it, so it goes to the debug log.
        """
        fraction = _check_fraction(fraction)
        async with self._db.session() as session, session.begin():
            row = await self._take(session, lease)
            if row is None:
                return JobControl.LOST
            await session.execute(sa.update(Job).where(Job.id == lease.job_id).values(progress=fraction))
            await session.execute(analysis_update(lease.job_id, progress=fraction))
        logger.debug("job %s: %.0f%% (%s)", lease.job_id, 100 * fraction, stage or "-")
        return JobControl.CANCEL if row.cancel_requested else JobControl.CONTINUE

    async def succeed(self, lease: JobLease, result: Mapping[str, Any]) -> bool:
        """Record the run's ``result`` (a JSON object); ``False`` if the lease no longer holds (result dropped)."""
        body = _json_dict(result, "job result")
        now = utc_now()
        async with self._db.session() as session, session.begin():
            if await self._take(session, lease) is None:
                return False
            done = {"status": JobStatus.SUCCEEDED, "progress": 1.0, "finished_at": now}
            await session.execute(sa.update(Job).where(Job.id == lease.job_id).values(result=body, error=None, **done))
            run_key = body.get("run_key")
            extra = {"run_key": run_key} if isinstance(run_key, str) else {}
            await session.execute(analysis_update(lease.job_id, summary=body, error=None, **done, **extra))
        return True

    async def fail(self, lease: JobLease, error: Mapping[str, Any], *, retryable: bool) -> JobStatus | None:
        """Record a failed run: queued again if ``retryable`` and attempts remain, else failed.

        A job whose cancellation was requested ends ``cancelled`` instead. ``error`` is the error body
        (``{"code", "message", "details"}``); the attempt number is added to it. Returns the job's new status,
        or ``None`` if the lease no longer holds (nothing recorded).
        """
        body = {**_json_dict(error, "job error"), "attempt": lease.attempt}
        now = utc_now()
        async with self._db.session() as session, session.begin():
            row = await self._take(session, lease)
            if row is None:
                return None
            if row.cancel_requested:
                status = JobStatus.CANCELLED
            elif retryable and row.attempts < row.max_attempts:
                status = JobStatus.QUEUED
            else:
                status = JobStatus.FAILED
            await self._leave_running(session, lease.job_id, status, now, error=body)
        return status

    async def release(self, lease: JobLease) -> bool:
        """Hand a running job back to the queue unfinished (a worker stopping), refunding its attempt.

        Returns ``False`` if the lease no longer holds. A job whose cancellation was requested is cancelled.
        """
        async with self._db.session() as session, session.begin():
            row = await self._take(session, lease)
            if row is None:
                return False
            if row.cancel_requested:
                await self._leave_running(session, lease.job_id, JobStatus.CANCELLED, utc_now())
            else:
                await session.execute(sa.update(Job).where(Job.id == lease.job_id).values(attempts=Job.attempts - 1))
                await self._leave_running(session, lease.job_id, JobStatus.QUEUED, utc_now())
        return True

    async def mark_cancelled(self, lease: JobLease) -> bool:
        """Confirm that the run under ``lease`` stopped on a cancellation; ``False`` if the lease no longer holds."""
        async with self._db.session() as session, session.begin():
            if await self._take(session, lease) is None:
                return False
            await self._leave_running(session, lease.job_id, JobStatus.CANCELLED, utc_now())
        return True

    async def _leave_running(
        self,
        session: AsyncSession,
        job_id: uuid.UUID,
        status: JobStatus,
        now: datetime,
        *,
        error: dict[str, Any] | None = None,
    ) -> None:
        """Move a locked running job to ``status`` (queued again or an end state), with its analysis."""
        values: dict[str, Any] = {"status": status}
        if error is not None:
            values["error"] = error
        if status == JobStatus.QUEUED:
            values |= {"worker_id": None, "heartbeat_at": None, "progress": 0.0}
            analysis: dict[str, Any] = {"status": status, "progress": 0.0}
        else:
            values["finished_at"] = now
            analysis = {"status": status, "finished_at": now}
            if error is not None:
                analysis["error"] = error
        await session.execute(sa.update(Job).where(Job.id == job_id).values(**values))
        await session.execute(analysis_update(job_id, **analysis))

    async def cancel(self, job_id: uuid.UUID) -> JobStatus:
        """Cancel a job: a queued one at once, a running one at its worker's next progress check.

        Returns the job's status afterwards (``cancelled``, ``running`` with ``cancel_requested`` set, or the
        end state it had already reached, which cancelling does not change).

        Raises
        ------
        NotFoundError
            No job has this id.

        """
        now = utc_now()
        flag = (
            sa.update(Job)
            .where(Job.id == job_id, Job.status.in_(ACTIVE))
            .values(cancel_requested=True)
            .returning(Job.status)
        )
        async with self._db.session() as session, session.begin():
            status = (await session.execute(flag)).scalar_one_or_none()
            if status == JobStatus.QUEUED:
                await session.execute(
                    sa.update(Job).where(Job.id == job_id).values(status=JobStatus.CANCELLED, finished_at=now)
                )
                await session.execute(analysis_update(job_id, status=JobStatus.CANCELLED, finished_at=now))
                return JobStatus.CANCELLED
        if status is not None:
            return JobStatus(status)
        return (await self.get(job_id)).status

    async def requeue_stale(self, timeout_s: float) -> dict[uuid.UUID, JobStatus]:
        """Recover running jobs without a heartbeat for more than ``timeout_s`` seconds (their worker is gone).

        Each goes back to ``queued`` with the lost run counted as an attempt, or to ``failed`` when it was the
        last attempt, or to ``cancelled`` when cancellation had been requested. Returns the new status of every
        job recovered.
        """
        if not (isinstance(timeout_s, int | float) and math.isfinite(timeout_s) and timeout_s > 0):
            raise InvalidInputError(f"timeout_s must be a positive number of seconds; got {timeout_s!r}")
        cutoff = utc_now() - timedelta(seconds=timeout_s)
        stale = sa.and_(Job.status == JobStatus.RUNNING, sa.or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff))
        async with self._db.session() as session:
            ids = list((await session.execute(sa.select(Job.id).where(stale))).scalars())
        recovered: dict[uuid.UUID, JobStatus] = {}
        for job_id in ids:
            touch = (
                sa.update(Job)
                .where(Job.id == job_id, stale)
                .values(heartbeat_at=utc_now())
                .returning(Job.cancel_requested, Job.attempts, Job.max_attempts, Job.worker_id)
            )
            async with self._db.session() as session, session.begin():
                row = (await session.execute(touch)).first()
                if row is None:  # it sent a heartbeat, or another worker recovered it, in the meantime
                    continue
                if row.cancel_requested:
                    status = JobStatus.CANCELLED
                elif row.attempts < row.max_attempts:
                    status = JobStatus.QUEUED
                else:
                    status = JobStatus.FAILED
                error = {
                    "code": "worker_lost",
                    "message": f"worker {row.worker_id} sent no heartbeat for over {timeout_s:g} s "
                    f"during attempt {row.attempts} of {row.max_attempts}",
                    "details": {"worker_id": row.worker_id, "timeout_s": timeout_s},
                    "attempt": row.attempts,
                }
                await self._leave_running(session, job_id, status, utc_now(), error=error)
            recovered[job_id] = status
            logger.warning("job %s recovered from worker %s: now %s", job_id, row.worker_id, status)
        return recovered

    async def get(self, job_id: uuid.UUID) -> Job:
        """Return the job ``job_id``.

        Raises
        ------
        NotFoundError
            No job has this id.

        """
        async with self._db.session() as session:
            job = await session.get(Job, job_id)
        if job is None:
            raise NotFoundError(f"no job {job_id}", details={"job_id": str(job_id)})
        return job

    async def depth(self) -> dict[JobStatus, int]:
        """Return how many jobs are in each status (every status present, zeros included)."""
        statement = sa.select(Job.status, sa.func.count()).group_by(Job.status)
        async with self._db.session() as session:
            counts = {JobStatus(status): int(count) for status, count in (await session.execute(statement)).all()}
        return {status: counts.get(status, 0) for status in JobStatus}

    async def list(
        self,
        *,
        status: JobStatus | None = None,
        owner_id: uuid.UUID | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Job]:
        """Return jobs, newest first, filtered by status, owner and kind; at most ``limit`` (1–1000)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInputError(f"limit must be an integer in [1, 1000]; got {limit!r}")
        statement = sa.select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
        if status is not None:
            statement = statement.where(Job.status == JobStatus(status))
        if owner_id is not None:
            statement = statement.where(Job.owner_id == owner_id)
        if kind is not None:
            statement = statement.where(Job.kind == kind)
        async with self._db.session() as session:
            return builtins.list((await session.execute(statement)).scalars())
