"""The API's job service: a runner and its executor, started and stopped with the app, and the job metrics.

What runs where is a matter of settings::

    setting                    embedded default                     at scale
    executor                   "local": a pool of job_workers       "ray": RayExecutor(ray_address), or a local
                               processes of this machine            Ray of job_workers CPUs when no address
    run_jobs_in_api            True: this process claims and        False: the API only enqueues; runners run
                               runs jobs                            elsewhere on the same job table

With ``run_jobs_in_api``, :func:`run_jobs` starts a :class:`~spacecomputer.jobs.JobRunner` (heartbeat, staleness and
polling from the settings), registers the ``executor`` readiness check (optional: the API serves reads without it,
so ``/ready`` says ``degraded``), and at shutdown stops the runner (runs in flight get ``job_stop_grace_s`` to
finish, then go back to the queue) before shutting the executor down. With tracing configured, each run gets a
span (``_tracing.TracedExecutor``). Either way it keeps the job gauges of
:class:`~spacecomputer.api._platform_metrics.PlatformMetrics` current.

Ctrl-C
------
A terminal sends SIGINT to the whole process group, the local pool's worker processes included: an idle worker
would die printing a ``KeyboardInterrupt`` traceback and a busy one would abandon its analysis, before the server
had stopped anything. :class:`InterruptShieldedPool` spawns the workers with SIGINT blocked (a blocked signal stays
blocked across ``fork`` and ``exec``), so Ctrl-C reaches the server alone, which stops the runs itself. In the
server's own thread SIGINT is only *deferred* while a worker may be spawned — a submit (milliseconds) or a ping
(at most its timeout) — never lost.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from spacecomputer.api._platform import Platform
from spacecomputer.api._platform_metrics import PlatformMetrics
from spacecomputer.api._tracing import TracedExecutor
from spacecomputer.config import Settings
from spacecomputer.jobs import (
    BlobStoreConfig,
    ExecutionHandle,
    Executor,
    JobOutcome,
    JobQueue,
    JobRunner,
    JobSpec,
    LocalProcessExecutor,
    RayExecutor,
    WorkerConfig,
)
from spacecomputer.storage import Database, Job, utc_now

__all__ = [
    "InterruptShieldedPool",
    "JobService",
    "blob_store_config",
    "build_executor",
    "run_jobs",
    "worker_config",
]

_log = logging.getLogger(__name__)
_shield_state = threading.local()


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Block SIGINT in this thread while the block runs (re-entrant); a signal that arrives meanwhile waits."""
    if not hasattr(signal, "pthread_sigmask"):  # no POSIX signal masks (Windows): nothing to defer
        yield
        return
    depth = getattr(_shield_state, "depth", 0)
    if depth == 0:
        _shield_state.saved = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    _shield_state.depth = depth + 1
    try:
        yield
    finally:
        _shield_state.depth -= 1
        if _shield_state.depth == 0:
            signal.pthread_sigmask(signal.SIG_SETMASK, _shield_state.saved)


class InterruptShieldedPool:
    """A :class:`~spacecomputer.jobs.LocalProcessExecutor` whose worker processes ignore Ctrl-C (module docstring).

    Parameters
    ----------
    pool
        The pool to wrap; it is used from the event loop's thread only.

    """

    def __init__(self, pool: LocalProcessExecutor) -> None:
        self._pool = pool

    @property
    def max_workers(self) -> int:
        """Processes in the pool."""
        return self._pool.max_workers

    def submit(self, spec: JobSpec) -> ExecutionHandle:
        """Queue ``spec`` on the pool (spawning a worker, shielded, if none is idle)."""
        with _sigint_deferred():
            return self._pool.submit(spec)

    def poll(self, handle: ExecutionHandle) -> JobOutcome | None:
        """Return the run's outcome once it has ended."""
        return self._pool.poll(handle)

    def cancel(self, handle: ExecutionHandle) -> None:
        """Drop a run not yet started; a started one stops at its next progress check."""
        self._pool.cancel(handle)

    async def ping(self, *, timeout_s: float = 30.0) -> None:
        """Check that a worker answers (the check may spawn one, so SIGINT waits for it)."""
        with _sigint_deferred():
            await self._pool.ping(timeout_s=timeout_s)

    def shutdown(self) -> None:
        """Stop the pool without waiting for the runs in progress."""
        self._pool.shutdown()


@dataclass(frozen=True, eq=False)
class JobService:
    """What :func:`run_jobs` started: the queue, and the executor and runner when this API runs jobs."""

    queue: JobQueue
    executor: Executor | None
    runner: JobRunner | None


def blob_store_config(settings: Settings) -> BlobStoreConfig:
    """Return how a job's process opens the blob store ``settings`` name (a local folder made absolute, or S3)."""
    if settings.blob_backend == "s3":
        secret = settings.s3_secret_access_key
        return BlobStoreConfig(
            "s3",
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region_name=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
        )
    return BlobStoreConfig("local", root=str(settings.platform_blobs_dir().expanduser().resolve()))


def worker_config(settings: Settings) -> WorkerConfig:
    """Return how a job's process reaches the platform's database and blob store."""
    return WorkerConfig(settings.platform_database_url(), blob_store=blob_store_config(settings))


def build_executor(settings: Settings) -> Executor:
    """Return the executor ``settings`` name (module docstring); joining Ray blocks for seconds.

    Raises
    ------
    UpstreamUnavailableError
        The Ray cluster at ``ray_address`` cannot be reached.

    """
    chunks, shortest_s = settings.job_chunk_workers, settings.job_min_chunk_s
    if settings.executor == "ray":
        if settings.ray_address is None:
            return RayExecutor(None, num_cpus=settings.job_workers, chunk_workers=chunks, min_chunk_s=shortest_s)
        return RayExecutor(settings.ray_address, chunk_workers=chunks, min_chunk_s=shortest_s)
    return InterruptShieldedPool(
        LocalProcessExecutor(settings.job_workers, chunk_workers=chunks, min_chunk_s=shortest_s)
    )


async def _observe_finished(database: Database, metrics: PlatformMetrics, worker_id: str, since: datetime) -> datetime:
    """Record the durations of the jobs ``worker_id`` finished after ``since``; return the latest end seen."""
    statement = (
        sa.select(Job.kind, Job.status, Job.started_at, Job.finished_at)
        .where(Job.worker_id == worker_id, Job.finished_at.is_not(None), Job.finished_at > since)
        .order_by(Job.finished_at)
    )
    async with database.session() as session:
        rows = (await session.execute(statement)).all()
    for kind, status, started_at, finished_at in rows:
        if started_at is not None and finished_at is not None:  # the query asked for finished jobs only
            metrics.observe_job(kind=kind, status=str(status), duration_s=(finished_at - started_at).total_seconds())
            since = max(since, finished_at)
    return since


async def _watch(queue: JobQueue, metrics: PlatformMetrics, runner: JobRunner | None, interval_s: float) -> None:
    """Refresh the queue-depth gauge and record this runner's finished jobs, every ``interval_s`` seconds."""
    since = utc_now()
    while True:
        try:
            if runner is not None:
                since = await _observe_finished(queue.database, metrics, runner.worker_id, since)
            metrics.set_depth(await queue.depth())  # after: a job whose duration was recorded is counted as ended
        except Exception:  # a database hiccup must not end the metrics (or take the app down)
            _log.warning("job metrics not refreshed", exc_info=True)
        await asyncio.sleep(interval_s)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


@asynccontextmanager
async def run_jobs(
    platform: Platform, metrics: PlatformMetrics, *, executor: Executor | None = None
) -> AsyncIterator[JobService]:
    """Start the platform's job service (module docstring), yield it, stop it.

    Parameters
    ----------
    platform
        The open platform (its settings, job queue and readiness checks).
    metrics
        Where the job metrics go.
    executor
        Run jobs on this executor, which stays the caller's (not shut down here); default: the one the settings
        name, built here and shut down at exit. Ignored without ``run_jobs_in_api``.

    Raises
    ------
    UpstreamUnavailableError
        The Ray cluster the settings name cannot be reached.

    """
    settings = platform.settings
    runner: JobRunner | None = None
    async with AsyncExitStack() as stack:
        if settings.run_jobs_in_api:
            if executor is None:
                executor = build_executor(settings)
                stack.callback(executor.shutdown)
            if platform.tracer is not None:
                executor = TracedExecutor(executor, platform.tracer)
            runner = JobRunner(
                platform.jobs,
                executor,
                config=worker_config(settings),
                concurrency=settings.job_workers,
                heartbeat_s=settings.job_heartbeat_s,
                stale_after_s=settings.job_stale_after_s,
                poll_s=settings.job_poll_s,
            )
            await runner.start()
            stack.push_async_callback(runner.stop, grace_s=settings.job_stop_grace_s)
            platform.add_readiness_check("executor", executor.ping, required=False)
        else:
            executor = None
        watcher = asyncio.create_task(_watch(platform.jobs, metrics, runner, settings.job_heartbeat_s))
        stack.push_async_callback(_cancel, watcher)
        yield JobService(queue=platform.jobs, executor=executor, runner=runner)
