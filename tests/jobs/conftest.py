"""Fixtures of the job tests: the storage tests' back ends (a SQLite file, a PostgreSQL schema) and helpers.

PostgreSQL unreachable: its cases fail when ``CI`` is set and are skipped otherwise (``tests/storage/conftest.py``).
Tests marked ``ray`` start a local Ray instance (seconds); ``-m "not ray"`` leaves them out.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from spacecomputer.domain import PoseSequence
from spacecomputer.jobs import JobQueue, WorkerConfig
from spacecomputer.pipeline import AnalysisResult, AnalyzeOptions, analyze_video
from spacecomputer.storage import Database, Job, JobStatus, LocalBlobStore, User, migrate, utc_now
from tests.conftest import SAMPLE_VIDEO
from tests.storage.conftest import Backend, backend, fresh_backend
from tests.videos import sample_frames, write_rgb_frames

__all__ = [
    "Backend",
    "age_heartbeat",
    "assert_chunked_like_single_process",
    "backend",
    "fresh_backend",
    "make_user",
    "run",
    "settle",
    "worker_config",
]


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Frames 45–84 of the sample video (the athlete in view throughout), near-lossless H.264."""
    return write_rgb_frames(tmp_path_factory.mktemp("clips") / "short.mp4", sample_frames(85)[45:])


@pytest.fixture(scope="session")
def single_process_run() -> AnalysisResult:
    """The sample video (7.7 s) analysed in one process, as a job's options give it (height 1.65 m)."""
    return analyze_video(SAMPLE_VIDEO, AnalyzeOptions(height_m=1.65, overlay=False))


async def assert_chunked_like_single_process(
    store: LocalBlobStore, prefix: str, single: AnalysisResult, *, chunks: int
) -> None:
    """The job's stitched poses under ``prefix`` match ``single`` (test_pipeline's chunking tolerance)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "poses_image.parquet"
        path.write_bytes(await store.read_bytes(f"{prefix}poses_image.parquet"))
        chunked = PoseSequence.from_parquet(path)
    np.testing.assert_array_equal(chunked.frame_indices, single.image.frame_indices)
    # Up to the first seam both runs tracked the same frames the same way; the zero-phase filter spreads later
    # differences back by a few tenths of a second.
    first_seam_s = single.analysis.video.duration_s / chunks
    early = single.image.timestamps_s < first_seam_s - 0.5
    difference_px = np.linalg.norm(single.image.positions[early] - chunked.positions[early], axis=2)
    assert np.nanmax(difference_px) < 0.5


def run(backend: Backend, body: Callable[[Database], Awaitable[Any]]) -> Any:
    """Migrate a fresh database, run ``body`` against it, dispose of the engine."""

    async def main() -> Any:
        db = backend.database()
        try:
            await migrate(db)
            return await body(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


def worker_config(backend: Backend, **options: Any) -> WorkerConfig:
    """How an executor's process reaches ``backend``."""
    return WorkerConfig(backend.url, database_connect_args=backend.connect_args, **options)


async def make_user(db: Database, email: str = "athlete@example.com") -> uuid.UUID:
    async with db.session() as session, session.begin():
        user = User(email=email, password_hash="argon2-hash")
        session.add(user)
    return user.id


async def settle(
    queue: JobQueue, job_ids: list[uuid.UUID], *, timeout_s: float, until: frozenset[JobStatus] | None = None
) -> list[Job]:
    """Wait until every job reached one of ``until`` (default: an end state); return them."""
    ends = until or frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})
    deadline = time.monotonic() + timeout_s
    while True:
        jobs = [await queue.get(job_id) for job_id in job_ids]
        if all(job.status in ends for job in jobs):
            return jobs
        if time.monotonic() > deadline:
            raise AssertionError(f"jobs not settled after {timeout_s} s: {[(j.kind, j.status) for j in jobs]}")
        await asyncio.sleep(0.05)


async def age_heartbeat(db: Database, job_id: uuid.UUID, seconds: float) -> None:
    """Set a job's last heartbeat ``seconds`` ago (as if its worker had gone quiet that long)."""
    async with db.session() as session, session.begin():
        earlier = utc_now() - timedelta(seconds=seconds)
        await session.execute(sa.update(Job).where(Job.id == job_id).values(heartbeat_at=earlier))
