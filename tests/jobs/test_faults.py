"""Workers killed mid-job: the job runs again and completes exactly once, and the executor keeps working."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from spacecomputer.jobs import JobQueue, LocalProcessExecutor
from spacecomputer.storage import Database, JobStatus
from tests.jobs.conftest import Backend, run, settle
from tests.jobs.test_runner import running, traces, wait_for_traces

# A whole worker (runner + its pool) in a process of its own, as `spacecomputer worker` or the API would run it.
WORKER = """
import asyncio, json, sys
from spacecomputer.jobs import TEST_HANDLERS, JobQueue, JobRunner, LocalProcessExecutor, WorkerConfig
from spacecomputer.storage import Database

async def main(url, connect_args):
    db = Database.from_url(url, connect_args=connect_args)
    config = WorkerConfig(url, database_connect_args=connect_args, progress_interval_s=0.1)
    runner = JobRunner(JobQueue(db), LocalProcessExecutor(1), config=config, handlers=TEST_HANDLERS,
                       worker_id="doomed-worker", heartbeat_s=0.2, stale_after_s=1.0, poll_s=0.05)
    await runner.start()
    await asyncio.sleep(3600)

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
"""


def test_a_killed_worker_process_is_replaced_and_its_job_completes_once(tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")
    executor = LocalProcessExecutor(1)

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("sleep", {"seconds": 1.5, "trace_dir": str(tmp_path)}, owner_id=None)
        async with running(queue, executor, backend, concurrency=1):
            (first,) = await wait_for_traces(tmp_path, "started", 1)
            os.kill(int((tmp_path / f"{first}.started").read_text()), signal.SIGKILL)
            (job,) = await settle(queue, [job_id], timeout_s=20)
            after = await queue.enqueue("echo", {}, owner_id=None)
            (echoed,) = await settle(queue, [after], timeout_s=20)
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
        assert traces(tmp_path, "started") == [f"{job_id}.1", f"{job_id}.2"]
        assert traces(tmp_path, "finished") == [f"{job_id}.2"]
        assert echoed.status == JobStatus.SUCCEEDED  # the rebuilt pool serves the next job

    try:
        run(backend, body)
    finally:
        executor.shutdown()


def test_a_killed_runner_loses_its_job_to_staleness_and_it_completes_once(backend: Backend, tmp_path: Path) -> None:
    """The whole worker (runner and pool) is killed: its heartbeats stop, another runner recovers the job."""
    executor = LocalProcessExecutor(1)

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("sleep", {"seconds": 1.0, "trace_dir": str(tmp_path)}, owner_id=None)
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, backend.url, json.dumps(backend.connect_args)], start_new_session=True
        )
        try:
            await wait_for_traces(tmp_path, "started", 1, timeout_s=30)
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        killed = await queue.get(job_id)
        assert (killed.status, killed.worker_id) == (JobStatus.RUNNING, "doomed-worker")
        async with running(queue, executor, backend, concurrency=1) as survivor:
            (job,) = await settle(queue, [job_id], timeout_s=20)
        assert (job.status, job.attempts, job.worker_id) == (JobStatus.SUCCEEDED, 2, survivor.worker_id)
        assert traces(tmp_path, "finished") == [f"{job_id}.2"]

    try:
        run(backend, body)
    finally:
        executor.shutdown()
