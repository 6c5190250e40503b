"""The runner on the local process pool: results, retries, cancellation, and a graceful or abrupt stop."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from spacecomputer.errors import InvalidInputError, UpstreamUnavailableError
from spacecomputer.jobs import TEST_HANDLERS, JobQueue, JobRunner, LocalProcessExecutor
from spacecomputer.storage import Database, JobStatus
from tests.jobs.conftest import Backend, run, settle, worker_config


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalProcessExecutor]:
    """Two worker processes shared by the tests of this file (starting them is most of a test's time)."""
    executor = LocalProcessExecutor(2)
    yield executor
    executor.shutdown()


@asynccontextmanager
async def running(queue: JobQueue, executor: Any, backend: Backend, **options: Any) -> AsyncIterator[JobRunner]:
    """A runner with test timings: heartbeats every 0.2 s, stale after 1 s, progress written every 0.1 s."""
    settings: dict[str, Any] = {"concurrency": 2, "heartbeat_s": 0.2, "stale_after_s": 1.0, "poll_s": 0.05}
    runner = JobRunner(
        queue,
        executor,
        config=worker_config(backend, progress_interval_s=0.1),
        handlers=TEST_HANDLERS,
        **(settings | options),
    )
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop(grace_s=0)


def traces(folder: Path, event: str) -> list[str]:
    """``<job id>.<attempt>`` of every run that wrote ``event`` (the sleep kind's trace files)."""
    return sorted(path.name.rsplit(".", 1)[0] for path in folder.glob(f"*.{event}"))


async def wait_for_traces(folder: Path, event: str, count: int, timeout_s: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while len(found := traces(folder, event)) < count:
        assert time.monotonic() < deadline, f"only {found} after {timeout_s} s"
        await asyncio.sleep(0.02)
    return found


def test_jobs_run_in_worker_processes_and_their_results_are_recorded(
    backend: Backend, pool: LocalProcessExecutor
) -> None:
    async def body(db: Database) -> None:
        queue = JobQueue(db)
        echoes = [await queue.enqueue("echo", {"n": n}, owner_id=None) for n in range(3)]
        sleeps = [await queue.enqueue("sleep", {"seconds": 0.3}, owner_id=None) for _ in range(2)]
        unknown = await queue.enqueue("not-a-kind", {}, owner_id=None)
        async with running(queue, pool, backend) as runner:
            jobs = await settle(queue, echoes + sleeps, timeout_s=20)
            assert runner.in_flight == []
        assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 5
        assert [job.result["echo"] for job in jobs[:3] if job.result] == [{"n": 0}, {"n": 1}, {"n": 2}]
        assert all(job.result is not None and job.result["pid"] != os.getpid() for job in jobs)
        assert all(job.progress == 1.0 and job.attempts == 1 for job in jobs)
        assert {job.worker_id for job in jobs} == {runner.worker_id}
        assert (await queue.get(unknown)).status == JobStatus.QUEUED  # no handler: left for another runner

    run(backend, body)


def test_retryable_failures_run_again_until_attempts_run_out(tmp_path: Path, pool: LocalProcessExecutor) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        flaky = await queue.enqueue("sleep", {"seconds": 0, "fail_attempts": 1}, owner_id=None, max_attempts=3)
        broken = await queue.enqueue("sleep", {"seconds": 0, "fail_attempts": 9}, owner_id=None, max_attempts=2)
        invalid = await queue.enqueue("sleep", {"seconds": -1}, owner_id=None, max_attempts=3)
        async with running(queue, pool, backend):
            flaky_job, broken_job, invalid_job = await settle(queue, [flaky, broken, invalid], timeout_s=20)
        assert (flaky_job.status, flaky_job.attempts) == (JobStatus.SUCCEEDED, 2)
        assert (broken_job.status, broken_job.attempts) == (JobStatus.FAILED, 2)
        assert broken_job.error is not None
        assert broken_job.error["message"] == "RuntimeError: failing attempt 2 on purpose (fail_attempts)"
        assert (invalid_job.status, invalid_job.attempts) == (JobStatus.FAILED, 1)  # a typed error is final
        assert invalid_job.error is not None
        assert invalid_job.error["code"] == "invalid_input"

    run(backend, body)


def test_a_running_job_is_cancelled_and_the_runner_goes_on(tmp_path: Path, pool: LocalProcessExecutor) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        long = await queue.enqueue("sleep", {"seconds": 30, "trace_dir": str(tmp_path)}, owner_id=None)
        async with running(queue, pool, backend, concurrency=1):
            await wait_for_traces(tmp_path, "started", 1)
            await settle(queue, [long], timeout_s=5, until=frozenset({JobStatus.RUNNING}))
            assert await queue.cancel(long) == JobStatus.RUNNING
            started = time.monotonic()
            (job,) = await settle(queue, [long], timeout_s=5)
            assert time.monotonic() - started < 2.0
            after = await queue.enqueue("echo", {"after": "cancel"}, owner_id=None)
            (echoed,) = await settle(queue, [after], timeout_s=10)
        assert job.status == JobStatus.CANCELLED
        assert 0 < job.progress < 0.2
        assert traces(tmp_path, "finished") == []
        assert echoed.status == JobStatus.SUCCEEDED

    run(backend, body)


def test_stopping_waits_for_runs_in_flight_within_the_grace_period(tmp_path: Path, pool: LocalProcessExecutor) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("sleep", {"seconds": 0.5, "trace_dir": str(tmp_path)}, owner_id=None)
        runner = JobRunner(queue, pool, config=worker_config(backend), handlers=TEST_HANDLERS, poll_s=0.05)
        await runner.start()
        await wait_for_traces(tmp_path, "started", 1)
        await runner.stop(grace_s=10)
        assert not runner.running
        job = await queue.get(job_id)
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1)

    run(backend, body)


def test_a_restart_with_jobs_in_flight_loses_nothing(tmp_path: Path, pool: LocalProcessExecutor) -> None:
    """Stopped at once, the runner hands its runs back; a new runner completes every job exactly once."""
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        payload = {"seconds": 1.0, "trace_dir": str(tmp_path)}
        ids = [await queue.enqueue("sleep", payload, owner_id=None) for _ in range(3)]
        async with running(queue, pool, backend) as first:
            await wait_for_traces(tmp_path, "started", 2)
            in_flight = set(first.in_flight)
        assert len(in_flight) == 2
        assert [(await queue.get(job_id)).status for job_id in ids] == [JobStatus.QUEUED] * 3
        assert traces(tmp_path, "finished") == []
        async with running(queue, pool, backend) as second:
            jobs = await settle(queue, ids, timeout_s=20)
        assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 3
        assert {job.worker_id for job in jobs} == {second.worker_id}
        assert [job.attempts for job in jobs] == [1, 1, 1]  # a handed-back run does not count
        assert traces(tmp_path, "finished") == sorted(f"{job_id}.1" for job_id in ids)

    run(backend, body)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"heartbeat_s": 0}, "heartbeat_s"),
        ({"heartbeat_s": 5, "stale_after_s": 6}, "twice"),
        ({"handlers": {}}, "at least one"),
    ],
)
def test_runner_settings_are_checked(
    options: dict[str, Any], message: str, tmp_path: Path, pool: LocalProcessExecutor
) -> None:
    db = Database.from_url("sqlite://")
    config = worker_config(Backend("sqlite", f"sqlite:///{tmp_path / 'x.db'}"))
    with pytest.raises(InvalidInputError, match=message):
        JobRunner(JobQueue(db), pool, config=config, **options)


def test_the_local_executor_answers_pings_until_shut_down() -> None:
    executor = LocalProcessExecutor(1)
    try:
        asyncio.run(executor.ping(timeout_s=30))
    finally:
        executor.shutdown()
    with pytest.raises(UpstreamUnavailableError, match="shut down"):
        asyncio.run(executor.ping())
