"""The job runner: an asyncio loop that feeds queued jobs to an executor and records how they end.

Each turn of the loop (every ``poll_s``):

1. collects the runs that ended and records their outcome (succeeded, failed — retryable or not —, cancelled;
   a run that lost its lease records nothing); an outcome the database could not take is kept and retried;
2. every ``heartbeat_s``, sends a heartbeat for each run in flight, passing a requested cancellation on to the
   executor, and recovers other workers' jobs whose heartbeat is older than ``stale_after_s``;
3. claims queued jobs of the kinds it has handlers for, up to ``concurrency`` in flight, and submits them.

Nothing is lost when the runner stops or dies: :meth:`JobRunner.stop` waits ``grace_s`` for the runs in flight,
then hands the rest back to the queue (attempt refunded); a runner that dies without stopping leaves running
jobs whose heartbeat goes stale, and any runner recovers them (attempt counted). A failure of the database
or the executor inside the loop is logged and the loop goes on.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import math
import os
import secrets
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from spacecomputer.errors import InvalidInputError
from spacecomputer.jobs._context import Handler, JobOutcome, JobSpec, WorkerConfig
from spacecomputer.jobs._executors import ExecutionHandle, Executor
from spacecomputer.jobs._handlers import PLATFORM_HANDLERS
from spacecomputer.jobs._lease import JobControl, JobLease
from spacecomputer.jobs._queue import JobQueue

__all__ = ["JobRunner", "default_worker_id"]

logger = logging.getLogger(__name__)


def default_worker_id() -> str:
    """Return a worker id unique to this runner: host, process id and a random suffix."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
        raise InvalidInputError(f"{name} must be a positive number of seconds; got {value!r}")
    return float(value)


@dataclass(eq=False)
class _Run:
    lease: JobLease
    handle: ExecutionHandle
    outcome: JobOutcome | None = None


class JobRunner:
    """Runs queued jobs on an executor (module docstring); start it, and stop it before shutting the executor.

    Parameters
    ----------
    queue
        The job queue.
    executor
        Where runs execute (a :class:`~spacecomputer.jobs.LocalProcessExecutor` or
        :class:`~spacecomputer.jobs.RayExecutor`).
    config
        How the runs reach the database and the blob store.
    handlers
        The job kinds this runner claims, with their handlers (default: the platform's).
    worker_id
        Unique name of this runner in the ``jobs.worker_id`` column (default: :func:`default_worker_id`).
    concurrency
        Runs in flight at once (at most the executor's workers, or runs wait inside the executor).
    heartbeat_s
        Seconds between two heartbeats of a run in flight (and between two stale-job recoveries).
    stale_after_s
        A running job without a heartbeat for this long is recovered, seconds; several ``heartbeat_s``.
    poll_s
        Seconds between two turns of the loop.

    Examples
    --------
    ::

        runner = JobRunner(JobQueue(db), LocalProcessExecutor(2), config=WorkerConfig(url), concurrency=2)
        await runner.start()
        ...
        await runner.stop(grace_s=10)

    """

    def __init__(
        self,
        queue: JobQueue,
        executor: Executor,
        *,
        config: WorkerConfig,
        handlers: Mapping[str, Handler] = PLATFORM_HANDLERS,
        worker_id: str | None = None,
        concurrency: int = 1,
        heartbeat_s: float = 5.0,
        stale_after_s: float = 30.0,
        poll_s: float = 0.1,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise InvalidInputError(f"concurrency must be a positive integer; got {concurrency!r}")
        if not handlers:
            raise InvalidInputError("a runner needs at least one job kind to run")
        self._heartbeat_s = _positive("heartbeat_s", heartbeat_s)
        self._stale_after_s = _positive("stale_after_s", stale_after_s)
        if self._stale_after_s < 2 * self._heartbeat_s:
            raise InvalidInputError(
                f"stale_after_s ({stale_after_s}) must be at least twice heartbeat_s ({heartbeat_s}): "
                "a live run would be taken for dead"
            )
        self._poll_s = _positive("poll_s", poll_s)
        self._queue = queue
        self._executor = executor
        self._config = config
        self._handlers = dict(handlers)
        self._worker_id = worker_id or default_worker_id()
        self._concurrency = concurrency
        self._runs: dict[uuid.UUID, _Run] = {}
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._deadline = math.inf

    @property
    def worker_id(self) -> str:
        """The name this runner writes into the jobs it claims."""
        return self._worker_id

    @property
    def in_flight(self) -> builtins.list[uuid.UUID]:
        """Ids of the jobs this runner is running now."""
        return list(self._runs)

    @property
    def running(self) -> bool:
        """Whether the loop is running."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the loop (a second call while it runs does nothing)."""
        if self.running:
            return
        self._stopping = False
        self._deadline = math.inf
        self._task = asyncio.create_task(self._loop(), name=f"job-runner {self._worker_id}")

    async def stop(self, *, grace_s: float = 10.0) -> None:
        """Stop claiming, wait up to ``grace_s`` seconds for the runs in flight, hand the rest back to the queue."""
        if self._task is None:
            return
        self._deadline = time.monotonic() + max(0.0, grace_s)
        self._stopping = True
        try:
            await self._task
        finally:
            self._task = None

    async def __aenter__(self) -> JobRunner:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    async def _loop(self) -> None:
        next_heartbeat = 0.0
        while True:
            try:
                await self._collect()
                if time.monotonic() >= next_heartbeat:
                    await self._heartbeat()
                    await self._queue.requeue_stale(self._stale_after_s)
                    next_heartbeat = time.monotonic() + self._heartbeat_s
                if self._stopping:
                    if not self._runs:
                        return
                    if time.monotonic() >= self._deadline:
                        await self._release_all()
                        return
                else:
                    await self._claim()
            except Exception:  # the loop must outlive a database or executor hiccup
                logger.exception("job runner %s: loop turn failed; retrying", self._worker_id)
            await asyncio.sleep(self._poll_s)

    async def _collect(self) -> None:
        for job_id, run in builtins.list(self._runs.items()):
            if run.outcome is None:
                run.outcome = self._executor.poll(run.handle)
            if run.outcome is not None:
                await self._record(run.lease, run.outcome)
                del self._runs[job_id]

    async def _record(self, lease: JobLease, outcome: JobOutcome) -> None:
        if outcome.status == "succeeded":
            recorded = await self._queue.succeed(lease, outcome.result or {})
        elif outcome.status == "failed":
            error = outcome.error or {"code": "internal_error", "message": "no error recorded", "details": {}}
            recorded = await self._queue.fail(lease, error, retryable=outcome.retryable) is not None
        elif outcome.status == "cancelled":
            recorded = await self._queue.mark_cancelled(lease)
        else:
            recorded = False
        if not recorded:
            logger.info(
                "job %s attempt %d: outcome %s dropped (lease lost)", lease.job_id, lease.attempt, outcome.status
            )

    async def _heartbeat(self) -> None:
        for run in builtins.list(self._runs.values()):
            if run.outcome is not None:
                continue
            control = await self._queue.heartbeat(run.lease)
            if control is JobControl.CANCEL:
                self._executor.cancel(run.handle)
            elif control is JobControl.LOST:
                logger.warning("job %s: lease lost by %s; abandoning the run", run.lease.job_id, self._worker_id)
                self._executor.cancel(run.handle)
                run.outcome = JobOutcome("lost")

    async def _claim(self) -> None:
        while len(self._runs) < self._concurrency:
            job = await self._queue.claim(self._worker_id, kinds=builtins.list(self._handlers))
            if job is None:
                return
            lease = JobLease.of(job)
            spec = JobSpec(lease, job.kind, dict(job.payload), self._handlers[job.kind], self._config)
            try:
                handle = self._executor.submit(spec)
            except Exception:
                await self._queue.release(lease)
                raise
            self._runs[job.id] = _Run(lease, handle)

    async def _release_all(self) -> None:
        for job_id, run in builtins.list(self._runs.items()):
            if run.outcome is None:
                self._executor.cancel(run.handle)
                await self._queue.release(run.lease)
            else:
                await self._record(run.lease, run.outcome)
            del self._runs[job_id]
