"""One analysis job split into pose-estimation chunks on the local pool (processes the job's worker starts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from spacecomputer.errors import InvalidInputError
from spacecomputer.jobs import Chunking, JobQueue, LocalProcessExecutor
from spacecomputer.pipeline import AnalysisResult
from spacecomputer.storage import Database, JobStatus, LocalBlobStore
from tests.conftest import SAMPLE_VIDEO
from tests.jobs.conftest import Backend, assert_chunked_like_single_process, run, settle
from tests.jobs.test_analysis import runner_for, submit_analysis


@pytest.mark.slow
def test_a_chunked_job_on_the_local_pool_stitches_the_single_process_poses(
    single_process_run: AnalysisResult, tmp_path: Path
) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'platform.db'}")
    store = LocalBlobStore(tmp_path / "blobs")
    pool = LocalProcessExecutor(1, chunk_workers=3, min_chunk_s=2.5)

    async def body(db: Database) -> None:
        job_id, _, prefix = await submit_analysis(db, store, SAMPLE_VIDEO.read_bytes())
        async with runner_for(db, pool, backend, tmp_path / "blobs"):
            (job,) = await settle(JobQueue(db), [job_id], timeout_s=240)
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.result is not None
        assert job.result["chunks"] == 3
        await assert_chunked_like_single_process(store, prefix, single_process_run, chunks=3)

    try:
        run(backend, body)
    finally:
        pool.shutdown()


@pytest.mark.parametrize(("workers", "min_chunk_s", "message"), [(0, 10.0, "chunk workers"), (2, 0.0, "min_chunk_s")])
def test_chunk_settings_are_checked(workers: int, min_chunk_s: float, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        Chunking(workers, min_chunk_s)
    with pytest.raises(InvalidInputError, match=message):
        LocalProcessExecutor(1, chunk_workers=workers, min_chunk_s=min_chunk_s)
