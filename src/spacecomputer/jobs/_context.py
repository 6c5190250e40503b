"""What crosses to an executor's process and what a handler sees there: specs, outcomes, the job context.

A :class:`JobSpec` (picklable: it travels to a process-pool worker or a Ray task) carries the job's lease,
kind, payload, handler function, a :class:`WorkerConfig` saying how to reach the stores, and the
:class:`Chunking` its executor sets (how an analysis spreads one long video over that executor). :func:`run_job`
runs the handler with a :class:`JobContext` and always returns a :class:`JobOutcome` (never raises), because our
exceptions do not survive pickling with their details and a crashed handler must not look like a crashed worker.

Handlers report progress through :meth:`JobContext.progress`, which writes to the database at most every
``progress_interval_s`` (with a heartbeat) and raises :class:`JobCancelled` when cancellation was requested or
:class:`JobLost` when the run lost its lease. Both derive from :class:`BaseException`, like
:class:`asyncio.CancelledError`, so that code which catches ``Exception`` around a progress callback does not
swallow them.

Errors
------
What :func:`run_job` makes of an exception (our own policy): :class:`~spacecomputer.errors.UpstreamUnavailableError`
(a store did not answer) and any exception that is not a :class:`~spacecomputer.errors.SpaceComputerError` are
retryable; every other ``SpaceComputerError`` (an invalid or truncated video, nobody in view, bad options) is
final, since running the same input again gives the same answer.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa

from spacecomputer._parallel import ChunkRunner, run_chunked
from spacecomputer.errors import InvalidInputError, SpaceComputerError, UpstreamUnavailableError
from spacecomputer.jobs._lease import JobLease, analysis_update, lease_filter
from spacecomputer.storage import BlobStore, Job, LocalBlobStore, S3BlobStore, sync_url, utc_now

__all__ = [
    "BlobStoreConfig",
    "Chunking",
    "Handler",
    "JobCancelled",
    "JobContext",
    "JobInterrupted",
    "JobLost",
    "JobOutcome",
    "JobSpec",
    "WorkerConfig",
    "error_body",
    "run_job",
]

logger = logging.getLogger(__name__)


class JobInterrupted(BaseException):
    """A running handler must stop (base of :class:`JobCancelled` and :class:`JobLost`)."""


class JobCancelled(JobInterrupted):
    """Cancellation of the job was requested: the handler stops, the job ends ``cancelled``."""


class JobLost(JobInterrupted):
    """The run no longer holds the job's lease (it was recovered as stale, or released): stop, report nothing."""


@dataclass(frozen=True)
class BlobStoreConfig:
    """How to open the platform's blob store in another process (picklable; secrets kept out of ``repr``).

    ``backend="local"`` needs ``root``; ``backend="s3"`` needs ``bucket`` and takes the other fields as
    :class:`~spacecomputer.storage.S3BlobStore` does.
    """

    backend: Literal["local", "s3"]
    root: str | None = None
    bucket: str | None = None
    endpoint_url: str | None = None
    region_name: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.backend == "local" and not self.root:
            raise InvalidInputError("a local blob store needs its root folder")
        if self.backend == "s3" and not self.bucket:
            raise InvalidInputError("an S3 blob store needs its bucket")
        if self.backend not in ("local", "s3"):
            raise InvalidInputError(f"blob store backend must be 'local' or 's3'; got {self.backend!r}")

    def open(self) -> BlobStore:
        """Return a new store (the caller closes it with ``await store.aclose()``)."""
        if self.backend == "local":
            return LocalBlobStore(str(self.root))
        return S3BlobStore(
            str(self.bucket),
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )


@dataclass(frozen=True)
class WorkerConfig:
    """How a job's process reaches the platform: the database (URL and connect arguments) and the blob store.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the platform database (any driver spelling; the worker uses the blocking driver).
    blob_store
        The blob store, for handlers that read or write blobs (the analysis handler); ``None`` if none is used.
    database_connect_args
        DBAPI ``connect`` arguments (e.g. a PostgreSQL ``options`` search path), as the API's database has.
    progress_interval_s
        Shortest time between two progress writes of one job, seconds (our own default).

    """

    database_url: str
    blob_store: BlobStoreConfig | None = None
    database_connect_args: Mapping[str, Any] = field(default_factory=dict)
    progress_interval_s: float = 0.5

    def __post_init__(self) -> None:
        sync_url(self.database_url)  # refuses a malformed URL or another back end here, not in a worker
        if not (math.isfinite(self.progress_interval_s) and self.progress_interval_s >= 0):
            raise InvalidInputError(f"progress_interval_s must be ≥ 0; got {self.progress_interval_s}")


Handler = Callable[["JobContext"], dict[str, Any]]
"""A job kind's code: takes the context, returns a small JSON object (the job's result)."""


@dataclass(frozen=True)
class Chunking:
    """How one analysis job splits a long video's pose estimation, set by the executor that runs the job.

    Parameters
    ----------
    workers
        Chunks estimated at once (1: the whole video in the job's own process).
    min_chunk_s
        Shortest part of the video, seconds, worth a chunk of its own (see ``AnalyzeOptions.min_chunk_s``).
    runner
        Where the chunks run (:func:`~spacecomputer._parallel.run_chunked`: processes started by the job's
        process; a Ray executor's: Ray tasks on its cluster).

    """

    workers: int = 1
    min_chunk_s: float = 10.0
    runner: ChunkRunner = run_chunked

    def __post_init__(self) -> None:
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise InvalidInputError(f"chunk workers must be a positive integer; got {self.workers!r}")
        if not (math.isfinite(self.min_chunk_s) and self.min_chunk_s > 0):
            raise InvalidInputError(f"min_chunk_s must be a positive number of seconds; got {self.min_chunk_s}")


@dataclass(frozen=True)
class JobSpec:
    """One run of one job, as sent to an executor (which sets ``chunking`` as it submits the run)."""

    lease: JobLease
    kind: str
    payload: dict[str, Any]
    handler: Handler
    config: WorkerConfig
    chunking: Chunking = Chunking()


@dataclass(frozen=True)
class JobOutcome:
    """How a run ended: ``succeeded`` with a result, ``failed`` with an error body, ``cancelled`` or ``lost``."""

    status: Literal["succeeded", "failed", "cancelled", "lost"]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    retryable: bool = False


def error_body(error: BaseException) -> dict[str, Any]:
    """Return the ``{"code", "message", "details"}`` body of any exception (ours keep their code and details)."""
    if isinstance(error, SpaceComputerError):
        body: dict[str, Any] = json.loads(json.dumps(error.to_dict(), default=str))
        return body
    return {"code": "internal_error", "message": f"{type(error).__name__}: {error}", "details": {}}


@functools.lru_cache(maxsize=8)
def _engine(url: str, connect_args: tuple[tuple[str, Any], ...]) -> sa.Engine:
    """Return this process's blocking engine for ``url`` (one per process and database, reused across jobs)."""
    parsed = sync_url(url)
    args = dict(connect_args)
    if parsed.get_backend_name() == "sqlite":
        args.setdefault("timeout", 30.0)  # a worker's progress write waits for the runner's transaction
        return sa.create_engine(parsed, connect_args=args)
    args.setdefault("connect_timeout", 5)
    return sa.create_engine(parsed, connect_args=args, pool_size=1, max_overflow=1, pool_pre_ping=True)


class JobContext:
    """What a handler gets: the job's id, payload and attempt, progress reporting, and the stores' addresses.

    Parameters
    ----------
    spec
        The run being executed.
    clock
        Monotonic clock in seconds (for throttling progress writes).

    """

    def __init__(self, spec: JobSpec, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._spec = spec
        self._clock = clock
        self._last_write = -math.inf

    @property
    def job_id(self) -> uuid.UUID:
        """The job's id."""
        return self._spec.lease.job_id

    @property
    def kind(self) -> str:
        """The job's kind."""
        return self._spec.kind

    @property
    def payload(self) -> dict[str, Any]:
        """The job's input, as enqueued."""
        return self._spec.payload

    @property
    def attempt(self) -> int:
        """Which run of the job this is (1 for the first)."""
        return self._spec.lease.attempt

    @property
    def database_url(self) -> str:
        """The platform database's URL."""
        return self._spec.config.database_url

    @property
    def chunking(self) -> Chunking:
        """How this run may split a long video over its executor."""
        return self._spec.chunking

    @property
    def blob_store_config(self) -> BlobStoreConfig | None:
        """How to open the blob store (``None`` if the worker has none)."""
        return self._spec.config.blob_store

    def open_blob_store(self) -> BlobStore:
        """Open the platform's blob store (close it with ``await store.aclose()``).

        Raises
        ------
        InvalidInputError
            The worker was configured without a blob store.

        """
        if self._spec.config.blob_store is None:
            raise InvalidInputError(f"job kind {self.kind!r} needs a blob store, and this worker has none")
        return self._spec.config.blob_store.open()

    def progress(self, fraction: float, stage: str | None = None) -> None:
        """Report ``fraction`` (0–1) of the job done; written at most every ``progress_interval_s``.

        Raises
        ------
        JobCancelled
            Cancellation was requested: stop now (the runner records the cancellation).
        JobLost
            This run no longer holds the job: stop now, report nothing.

        """
        if not math.isfinite(fraction):
            raise InvalidInputError(f"progress must be a finite fraction; got {fraction}")
        now = self._clock()
        if now - self._last_write < self._spec.config.progress_interval_s:
            return
        self._last_write = now
        self._write(min(1.0, max(0.0, fraction)), stage)

    def check(self) -> None:
        """Check for cancellation now, whatever the throttle (before a step that cannot be undone)."""
        self._last_write = self._clock()
        self._write(None, None)

    def _write(self, fraction: float | None, stage: str | None) -> None:
        lease = self._spec.lease
        values: dict[str, Any] = {"heartbeat_at": utc_now()}
        if fraction is not None:
            values["progress"] = fraction
        statement = sa.update(Job).where(lease_filter(lease)).values(**values).returning(Job.cancel_requested)
        config = self._spec.config
        try:
            with _engine(config.database_url, tuple(sorted(config.database_connect_args.items()))).begin() as db:
                cancel_requested = db.execute(statement).scalar_one_or_none()
                if cancel_requested is not None and fraction is not None:
                    db.execute(analysis_update(lease.job_id, progress=fraction))
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
            # The runner's heartbeat keeps the job alive; a missed progress write only delays the bar.
            logger.warning("job %s: progress not recorded (%s)", lease.job_id, type(error).__name__)
            return
        if cancel_requested is None:
            raise JobLost(f"job {lease.job_id} attempt {lease.attempt} no longer belongs to {lease.worker_id}")
        if cancel_requested:
            raise JobCancelled(f"job {lease.job_id} was cancelled")
        logger.debug("job %s: %s %s", lease.job_id, stage or "-", fraction)


def run_job(spec: JobSpec) -> JobOutcome:
    """Run ``spec``'s handler in this process and return how it ended (never raises; module docstring)."""
    context = JobContext(spec)
    try:
        context.check()
        result = spec.handler(context)
    except JobCancelled:
        return JobOutcome("cancelled")
    except JobLost:
        return JobOutcome("lost")
    except UpstreamUnavailableError as error:
        return JobOutcome("failed", error=error_body(error), retryable=True)
    except SpaceComputerError as error:
        return JobOutcome("failed", error=error_body(error), retryable=False)
    except Exception as error:  # any other failure may be transient: the queue's attempts bound the retries
        logger.exception("job %s (%s) raised", spec.lease.job_id, spec.kind)
        return JobOutcome("failed", error=error_body(error), retryable=True)
    if not isinstance(result, dict):
        message = f"handler of {spec.kind!r} returned {type(result).__name__}, not a dict"
        return JobOutcome("failed", error={"code": "internal_error", "message": message, "details": {}})
    try:
        plain = json.loads(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError) as error:
        message = f"handler of {spec.kind!r} returned a result that is not strict JSON: {error}"
        return JobOutcome("failed", error={"code": "internal_error", "message": message, "details": {}})
    return JobOutcome("succeeded", result=plain)
