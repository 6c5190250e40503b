"""The same jobs on Ray: a local Ray instance started by the tests (marked ``ray``: ``-m "not ray"`` skips them)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from spacecomputer.errors import InvalidInputError
from spacecomputer.jobs import TEST_HANDLERS, BlobStoreConfig, JobQueue, JobRunner, RayExecutor
from spacecomputer.pipeline import AnalysisResult
from spacecomputer.storage import Database, JobStatus, LocalBlobStore
from tests.conftest import SAMPLE_VIDEO
from tests.jobs.conftest import Backend, assert_chunked_like_single_process, run, settle, worker_config
from tests.jobs.test_analysis import analysis_row, submit_analysis
from tests.jobs.test_runner import running, traces, wait_for_traces

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    """A local Ray of 2 CPUs, started in this process (``ray.init(num_cpus=2, include_dashboard=False)``)."""
    executor = RayExecutor(num_cpus=2, init_options={"log_to_driver": False})
    yield executor
    executor.shutdown()


def test_ray_runs_the_echo_kind_in_its_own_workers(ray_executor: RayExecutor, tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")

    async def body(db: Database) -> None:
        await ray_executor.ping()
        queue = JobQueue(db)
        ids = [await queue.enqueue("echo", {"n": n}, owner_id=None) for n in range(4)]
        async with running(queue, ray_executor, backend, heartbeat_s=1.0, stale_after_s=5.0):
            jobs = await settle(queue, ids, timeout_s=30)
        assert [job.status for job in jobs] == [JobStatus.SUCCEEDED] * 4
        assert [job.result["echo"] for job in jobs if job.result] == [{"n": n} for n in range(4)]
        assert all(job.result is not None and job.result["pid"] != os.getpid() for job in jobs)

    run(backend, body)


def test_ray_cancels_a_running_job(ray_executor: RayExecutor, tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("sleep", {"seconds": 30, "trace_dir": str(tmp_path)}, owner_id=None)
        async with running(queue, ray_executor, backend, heartbeat_s=0.2, stale_after_s=5.0):
            await wait_for_traces(tmp_path, "started", 1, timeout_s=20)
            await queue.cancel(job_id)
            (job,) = await settle(queue, [job_id], timeout_s=5)
        assert job.status == JobStatus.CANCELLED
        assert traces(tmp_path, "finished") == []

    run(backend, body)


def test_a_killed_ray_worker_is_retried_and_the_job_completes_once(ray_executor: RayExecutor, tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'jobs.db'}")

    async def body(db: Database) -> None:
        queue = JobQueue(db)
        job_id = await queue.enqueue("sleep", {"seconds": 1.0, "trace_dir": str(tmp_path)}, owner_id=None)
        async with running(queue, ray_executor, backend, heartbeat_s=0.2, stale_after_s=5.0):
            (first,) = await wait_for_traces(tmp_path, "started", 1, timeout_s=20)
            os.kill(int((tmp_path / f"{first}.started").read_text()), signal.SIGKILL)
            (job,) = await settle(queue, [job_id], timeout_s=25)
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
        assert traces(tmp_path, "finished") == [f"{job_id}.2"]

    run(backend, body)


def test_ray_runs_an_analysis_of_a_short_clip(ray_executor: RayExecutor, short_clip: Path, tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'platform.db'}")
    store = LocalBlobStore(tmp_path / "blobs")
    config = {"blob_store": BlobStoreConfig("local", root=str(tmp_path / "blobs"))}

    async def body(db: Database) -> None:
        job_id, analysis_id, prefix = await submit_analysis(db, store, short_clip.read_bytes())
        queue = JobQueue(db)
        runner_config = worker_config(backend, **config)
        runner = JobRunner(queue, ray_executor, config=runner_config, handlers=TEST_HANDLERS, poll_s=0.05)
        async with runner:
            (job,) = await settle(queue, [job_id], timeout_s=60)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result is not None
        assert job.result["frames"] == 40
        assert await store.exists(f"{prefix}analysis.json")
        assert await store.exists(f"{prefix}overlay.mp4")
        assert (await analysis_row(db, analysis_id)).status == JobStatus.SUCCEEDED

    run(backend, body)


@pytest.mark.slow
def test_a_chunked_job_on_ray_stitches_the_single_process_poses(
    ray_executor: RayExecutor, single_process_run: AnalysisResult, tmp_path: Path
) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'platform.db'}")
    store = LocalBlobStore(tmp_path / "blobs")
    chunked = RayExecutor(chunk_workers=3, min_chunk_s=2.5)  # joins the fixture's Ray: the chunks are its tasks
    config = worker_config(backend, blob_store=BlobStoreConfig("local", root=str(tmp_path / "blobs")))

    async def body(db: Database) -> None:
        job_id, _, prefix = await submit_analysis(db, store, SAMPLE_VIDEO.read_bytes())
        queue = JobQueue(db)
        async with JobRunner(queue, chunked, config=config, handlers=TEST_HANDLERS, poll_s=0.05):
            (job,) = await settle(queue, [job_id], timeout_s=240)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result is not None
        assert job.result["chunks"] == 3
        await assert_chunked_like_single_process(store, prefix, single_process_run, chunks=3)

    run(backend, body)


def test_ray_settings_are_checked() -> None:
    with pytest.raises(InvalidInputError, match="num_cpus"):
        RayExecutor("auto", num_cpus=2)
    with pytest.raises(InvalidInputError, match="cpus_per_job"):
        RayExecutor(cpus_per_job=0)
