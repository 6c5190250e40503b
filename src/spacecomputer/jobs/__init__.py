"""Durable jobs: a queue in the platform database, handlers per job kind, and executors that run them.

Same job code on both back ends (DESIGN.md, "Backends")::

    piece       embedded default                         at scale
    queue       JobQueue on the SQLite file              JobQueue on PostgreSQL (FOR UPDATE SKIP LOCKED)
    executor    LocalProcessExecutor(max_workers)        RayExecutor(address="ray://…" or "auto")
    loop        JobRunner(queue, executor, config=WorkerConfig(database_url, blob_store=…))

A job is enqueued (``JobQueue.enqueue``), claimed by a runner, run by its kind's handler in an executor's
process (``run_job`` with a ``JobContext``: payload, progress that doubles as the cancellation check, the
stores' addresses) and its outcome recorded once, under the run's lease. Workers that die are detected by their
missed heartbeats (``JobQueue.requeue_stale``) and their jobs run again. An executor built with
``chunk_workers > 1`` has each analysis split a long video's pose estimation into that many chunks run at once
on it (``Chunking``: Ray tasks on its cluster, or processes the local pool's worker starts).
"""

from spacecomputer.jobs._context import (
    BlobStoreConfig,
    Chunking,
    Handler,
    JobCancelled,
    JobContext,
    JobInterrupted,
    JobLost,
    JobOutcome,
    JobSpec,
    WorkerConfig,
    error_body,
    run_job,
)
from spacecomputer.jobs._executors import (
    ExecutionHandle,
    Executor,
    LocalProcessExecutor,
    RayChunkRunner,
    RayExecutor,
)
from spacecomputer.jobs._handlers import (
    ANALYSIS_OPTION_TYPES,
    ANALYSIS_STAGES,
    PLATFORM_HANDLERS,
    TEST_HANDLERS,
    analysis_handler,
    analysis_payload,
    echo_handler,
    sleep_handler,
)
from spacecomputer.jobs._lease import JobControl, JobLease
from spacecomputer.jobs._queue import JobQueue
from spacecomputer.jobs._runner import JobRunner, default_worker_id

__all__ = [
    "ANALYSIS_OPTION_TYPES",
    "ANALYSIS_STAGES",
    "PLATFORM_HANDLERS",
    "TEST_HANDLERS",
    "BlobStoreConfig",
    "Chunking",
    "ExecutionHandle",
    "Executor",
    "Handler",
    "JobCancelled",
    "JobContext",
    "JobControl",
    "JobInterrupted",
    "JobLease",
    "JobLost",
    "JobOutcome",
    "JobQueue",
    "JobRunner",
    "JobSpec",
    "LocalProcessExecutor",
    "RayChunkRunner",
    "RayExecutor",
    "WorkerConfig",
    "analysis_handler",
    "analysis_payload",
    "default_worker_id",
    "echo_handler",
    "error_body",
    "run_job",
    "sleep_handler",
]
