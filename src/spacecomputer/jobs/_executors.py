"""Where job runs execute: the :class:`Executor` protocol, a local process pool, and a Ray cluster.

Both run the same :func:`~spacecomputer.jobs.run_job` on a :class:`~spacecomputer.jobs.JobSpec`; only the
transport differs. An executor never raises for a run that went wrong: :meth:`Executor.poll` turns a crashed
worker process into a retryable failed :class:`~spacecomputer.jobs.JobOutcome` (code ``worker_crashed``), and the
queue decides whether attempts remain. Cancelling a run that has started is cooperative on the local pool (the
handler stops at its next progress check, which reads the job's ``cancel_requested``) and also interrupts the
task on Ray (``ray.cancel``, which also cancels the tasks it started).

Long videos: each executor sets the :class:`~spacecomputer.jobs.Chunking` of the runs it submits, so that one
analysis job estimates up to ``chunk_workers`` chunks of its video at once (default 1: the whole video in the job's
process). On Ray the chunks are Ray tasks on the same cluster (:class:`RayChunkRunner`); the job's task, blocked
waiting for them, lends them its CPU. On the local pool the job's worker process starts the chunks' processes
itself (``spawn``, as the command line does): the pool's other processes belong to the runner's process, out of
reach of a worker, and may be busy with other jobs. So ``max_workers × chunk_workers`` processes run at most.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar, runtime_checkable

from spacecomputer._parallel import ProgressTick
from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError
from spacecomputer.jobs._context import Chunking, JobOutcome, JobSpec, error_body, run_job

__all__ = ["ExecutionHandle", "Executor", "LocalProcessExecutor", "RayChunkRunner", "RayExecutor"]

R = TypeVar("R")

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class ExecutionHandle:
    """A submitted run: its spec and the executor's own reference to it (a future, a Ray object ref)."""

    spec: JobSpec
    reference: Any
    generation: int = 0
    """Local pool: which pool (rebuilt after a crash) runs it."""


def _crashed(spec: JobSpec, cause: BaseException) -> JobOutcome:
    message = f"the worker process running job {spec.lease.job_id} died ({type(cause).__name__})"
    return JobOutcome(
        "failed",
        error={"code": "worker_crashed", "message": message, "details": {"cause": str(cause)[:500]}},
        retryable=True,
    )


@runtime_checkable
class Executor(Protocol):
    """Runs job specs somewhere else and reports how they ended."""

    def submit(self, spec: JobSpec) -> ExecutionHandle:
        """Start running ``spec`` (or queue it inside the executor) and return its handle."""
        ...

    def poll(self, handle: ExecutionHandle) -> JobOutcome | None:
        """Return the run's outcome if it has ended, else ``None`` (never blocks, never raises for the run)."""
        ...

    def cancel(self, handle: ExecutionHandle) -> None:
        """Ask the run to stop (see the module docstring for how far each executor can force it)."""
        ...

    async def ping(self, *, timeout_s: float = 30.0) -> None:
        """Return quietly if runs can be executed, else raise ``UpstreamUnavailableError``."""
        ...

    def shutdown(self) -> None:
        """Stop accepting runs and release the workers (runs in progress are abandoned)."""
        ...


class LocalProcessExecutor:
    """Runs on a pool of ``max_workers`` processes of this machine (``spawn``: no state inherited by fork).

    A worker process that dies (killed, out of memory, a crash in native code) breaks the whole pool: every run
    on it ends ``worker_crashed`` (retryable) and the next call builds a fresh pool.

    Parameters
    ----------
    max_workers
        Processes, so also runs executed at once; give the runner the same concurrency.
    chunk_workers
        Chunks of one long video that an analysis run estimates at once, in processes its worker starts.
    min_chunk_s
        Shortest part of a video, seconds, worth a chunk (and a process) of its own.

    """

    def __init__(self, max_workers: int = 1, *, chunk_workers: int = 1, min_chunk_s: float = 10.0) -> None:
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
            raise InvalidInputError(f"max_workers must be a positive integer; got {max_workers!r}")
        self._chunking = Chunking(chunk_workers, min_chunk_s)
        self._max_workers = max_workers
        self._context = multiprocessing.get_context("spawn")
        self._pool = self._new_pool()
        self._generation = 0
        self._active: set[Future[Any]] = set()
        self._closed = False

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._max_workers, mp_context=self._context)

    @property
    def max_workers(self) -> int:
        """Processes in the pool."""
        return self._max_workers

    def _rebuild(self, generation: int) -> None:
        """Replace the pool if it is still the broken one of ``generation``."""
        if generation != self._generation or self._closed:
            return
        logger.warning("a worker process died: rebuilding the pool of %d processes", self._max_workers)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._new_pool()
        self._generation += 1

    def _submit(self, function: Any, *args: Any) -> tuple[Future[Any], int]:
        if self._closed:
            raise UpstreamUnavailableError("the local executor is shut down")
        try:
            future = self._pool.submit(function, *args)
        except BrokenProcessPool:
            self._rebuild(self._generation)
            future = self._pool.submit(function, *args)
        self._active = {active for active in self._active if not active.done()} | {future}
        return future, self._generation

    def submit(self, spec: JobSpec) -> ExecutionHandle:
        """Queue ``spec`` on the pool."""
        future, generation = self._submit(run_job, replace(spec, chunking=self._chunking))
        return ExecutionHandle(spec, future, generation)

    def poll(self, handle: ExecutionHandle) -> JobOutcome | None:
        """Return the outcome once the run's future is done."""
        future: Future[JobOutcome] = handle.reference
        if not future.done():
            return None
        if future.cancelled():
            return JobOutcome("cancelled")
        error = future.exception()
        if error is None:
            return future.result()
        if isinstance(error, BrokenProcessPool):
            self._rebuild(handle.generation)
            return _crashed(handle.spec, error)
        return JobOutcome("failed", error=error_body(error), retryable=True)

    def cancel(self, handle: ExecutionHandle) -> None:
        """Drop a run not yet started; a started one stops at its next progress check."""
        handle.reference.cancel()

    async def ping(self, *, timeout_s: float = 30.0) -> None:
        """Check that a worker process answers (when every worker is busy, that they are: nothing to wait for)."""
        if self._closed:
            raise UpstreamUnavailableError("the local executor is shut down")
        if sum(not future.done() for future in self._active) >= self._max_workers:
            return
        try:
            future, _ = self._submit(os.getpid)
            await asyncio.wait_for(asyncio.wrap_future(future), timeout_s)
        except (BrokenProcessPool, TimeoutError, OSError) as error:
            self._rebuild(self._generation)
            raise UpstreamUnavailableError(
                f"the local worker pool did not answer within {timeout_s:g} s ({type(error).__name__})",
                details={"executor": "local", "max_workers": self._max_workers},
            ) from error

    def shutdown(self) -> None:
        """Stop the pool, dropping queued runs, without waiting for the ones in progress."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)


def _counted(task: Callable[..., R], args: tuple[Any, ...]) -> tuple[R, int]:
    """Run one chunk in a Ray worker; return its result and the frames it reported done."""
    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n

    return task(*args, progress=count), done


@functools.cache
def _remote_counted(cpus: float) -> Any:
    """Return :func:`_counted` as a Ray remote function (defined once per process and CPU count, as Ray advises)."""
    import ray

    return ray.remote(_counted).options(num_cpus=cpus, max_retries=0)


@dataclass(frozen=True)
class RayChunkRunner:
    """Runs chunks as Ray tasks (a :class:`~spacecomputer._parallel.ChunkRunner`), one per chunk.

    The tasks go to the cluster this process is connected to: inside a job's Ray task, the job's own. Progress
    arrives per chunk, as its result is collected (in chunk order). An exception of a chunk is raised as the chunk
    raised it; a run interrupted while it waits (cancelled) cancels the chunks not yet ended.
    """

    cpus_per_chunk: float = 1.0

    def __call__(
        self,
        task: Callable[..., R],
        arguments: Sequence[tuple[Any, ...]],
        *,
        workers: int,
        on_progress: ProgressTick,
        isolate: bool = False,
    ) -> list[R]:
        """Return the chunks' results in argument order, from Ray tasks (a single one runs here unless isolated)."""
        if not isolate and (workers <= 1 or len(arguments) <= 1):
            return [task(*args, progress=on_progress) for args in arguments]
        import ray

        references = [_remote_counted(self.cpus_per_chunk).remote(task, args) for args in arguments]
        results: list[R] = []
        try:
            for reference in references:  # ray.get, not ray.wait: Ray lends a task blocked in get its CPU
                result, frames = ray.get(reference)
                results.append(result)
                on_progress(frames)
        except BaseException as error:
            for reference in references:  # no-op for those ended
                ray.cancel(reference)
            if isinstance(error, ray.exceptions.RayTaskError):
                raise error.cause from None
            raise
        return results


class RayExecutor:
    """Runs as Ray tasks, on a local Ray started here or on a cluster.

    Parameters
    ----------
    address
        ``None``: start a new local Ray from this process (stopped by :meth:`shutdown`); ``"auto"``: join the
        cluster named by ``RAY_ADDRESS`` or started on this machine with ``ray start``; ``"host:6379"``: join that
        cluster; ``"ray://host:10001"``: connect through Ray Client. If this process already called ``ray.init``,
        that connection is used as it is.
    num_cpus
        CPUs of the local Ray started when ``address`` is ``None`` (``None``: every core).
    cpus_per_job
        CPUs Ray reserves for each run and each chunk (so a node runs ``its CPUs / cpus_per_job`` of them at once).
    chunk_workers
        Chunks of one long video that an analysis run estimates at once, as Ray tasks.
    min_chunk_s
        Shortest part of a video, seconds, worth a chunk (and a task) of its own.
    init_options
        More ``ray.init`` keyword arguments (``namespace``, ``runtime_env`` …).

    Raises
    ------
    UpstreamUnavailableError
        The cluster could not be reached.

    """

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        cpus_per_job: float = 1.0,
        chunk_workers: int = 1,
        min_chunk_s: float = 10.0,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        import ray  # optional: imported only where Ray is the executor (it takes seconds)

        if num_cpus is not None and address is not None:
            raise InvalidInputError("num_cpus sizes a local Ray; it cannot be set when joining a cluster (address)")
        if not cpus_per_job > 0:
            raise InvalidInputError(f"cpus_per_job must be positive; got {cpus_per_job}")
        self._chunking = Chunking(chunk_workers, min_chunk_s, RayChunkRunner(cpus_per_job))
        self._ray: Any = ray
        self._started_here = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
            if address is None:  # "local": a new instance, even where RAY_ADDRESS or a `ray start` cluster exists
                options["num_cpus"] = num_cpus
            try:
                ray.init(address=address or "local", **(options | dict(init_options or {})))
            except (ConnectionError, TimeoutError, RuntimeError) as error:
                raise UpstreamUnavailableError(
                    f"cannot reach the Ray cluster at {address}: {error}", details={"address": address}
                ) from error
            self._started_here = True
        self._remote: Any = ray.remote(run_job).options(num_cpus=cpus_per_job, max_retries=0)

    def submit(self, spec: JobSpec) -> ExecutionHandle:
        """Start ``spec`` as a Ray task (Ray does not retry it: the queue owns retries)."""
        return ExecutionHandle(spec, self._remote.remote(replace(spec, chunking=self._chunking)))

    def poll(self, handle: ExecutionHandle) -> JobOutcome | None:
        """Return the task's outcome once it has ended."""
        ray = self._ray
        ready, _ = ray.wait([handle.reference], timeout=0)
        if not ready:
            return None
        try:
            outcome: JobOutcome = ray.get(handle.reference)
        except ray.exceptions.TaskCancelledError:
            return JobOutcome("cancelled")
        except ray.exceptions.RayError as error:
            return _crashed(handle.spec, error)
        return outcome

    def cancel(self, handle: ExecutionHandle) -> None:
        """Interrupt the task (``KeyboardInterrupt`` inside it; a queued task never starts)."""
        self._ray.cancel(handle.reference)

    async def ping(self, *, timeout_s: float = 30.0) -> None:
        """Check that the cluster answers and has CPUs."""
        ray = self._ray
        if not ray.is_initialized():
            raise UpstreamUnavailableError("Ray is not connected", details={"executor": "ray"})
        try:
            resources = await asyncio.wait_for(asyncio.to_thread(ray.cluster_resources), timeout_s)
        except Exception as error:  # Ray raises many types for a cluster that went away
            raise UpstreamUnavailableError(
                f"the Ray cluster did not answer ({type(error).__name__})", details={"executor": "ray"}
            ) from error
        if not resources.get("CPU", 0) > 0:
            raise UpstreamUnavailableError("the Ray cluster has no CPU to run jobs on", details={"executor": "ray"})

    def shutdown(self) -> None:
        """Disconnect, stopping the local Ray if this executor started it."""
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()
