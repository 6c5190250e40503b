"""The analysis job end to end on the local pool: a real clip in a blob store, outputs uploaded, the row updated."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spacecomputer.errors import InvalidInputError
from spacecomputer.jobs import (
    TEST_HANDLERS,
    BlobStoreConfig,
    JobQueue,
    JobRunner,
    LocalProcessExecutor,
    analysis_payload,
)
from spacecomputer.storage import Analysis, Database, Job, JobStatus, LocalBlobStore, Video, VideoStatus
from tests.jobs.conftest import Backend, make_user, run, settle, worker_config
from tests.videos import HOSTILE_BUILDERS


@pytest.fixture(scope="module")
def pool() -> Iterator[LocalProcessExecutor]:
    """One worker process, kept warm across the tests (it loads the pose model once)."""
    executor = LocalProcessExecutor(1)
    yield executor
    executor.shutdown()


async def submit_analysis(db: Database, store: LocalBlobStore, video: bytes) -> tuple[uuid.UUID, uuid.UUID, str]:
    """Store ``video`` as a user's upload and enqueue its analysis as the API does; return job, analysis, prefix."""
    owner = await make_user(db)
    video_id, analysis_id = uuid.uuid4(), uuid.uuid4()
    key = f"users/{owner}/videos/{video_id}/original"
    info = await store.put_bytes(key, video)
    prefix = f"users/{owner}/analyses/{analysis_id}/"
    queue = JobQueue(db)
    async with db.session() as session, session.begin():
        session.add(
            Video(
                id=video_id,
                owner_id=owner,
                filename="my clip.mp4",
                storage_key=key,
                total_size_bytes=info.size_bytes,
                chunk_size_bytes=info.size_bytes,
                upload_offset_bytes=info.size_bytes,
                status=VideoStatus.READY,
                size_bytes=info.size_bytes,
                sha256=info.sha256,
            )
        )
        payload = analysis_payload(video_key=key, output_prefix=prefix, options={"height_m": 1.65, "sport": None})
        job_id = await queue.enqueue("analysis", payload, owner_id=owner, session=session)
        session.add(Analysis(id=analysis_id, owner_id=owner, video_id=video_id, job_id=job_id, options=payload))
    return job_id, analysis_id, prefix


async def analysis_row(db: Database, analysis_id: uuid.UUID) -> Analysis:
    async with db.session() as session:
        found = await session.get(Analysis, analysis_id)
    assert found is not None
    return found


def runner_for(db: Database, pool: LocalProcessExecutor, backend: Backend, blobs: Path) -> JobRunner:
    config = worker_config(backend, blob_store=BlobStoreConfig("local", root=str(blobs)), progress_interval_s=0.1)
    return JobRunner(JobQueue(db), pool, config=config, handlers=TEST_HANDLERS, heartbeat_s=1.0, poll_s=0.05)


def test_an_analysis_job_uploads_its_outputs_and_completes_the_analysis(
    short_clip: Path, pool: LocalProcessExecutor, tmp_path: Path
) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'platform.db'}")
    store = LocalBlobStore(tmp_path / "blobs")

    async def body(db: Database) -> tuple[Job, Analysis, list[float], dict[str, Any]]:
        job_id, analysis_id, prefix = await submit_analysis(db, store, short_clip.read_bytes())
        queue = JobQueue(db)
        seen: list[float] = []
        async with runner_for(db, pool, backend, tmp_path / "blobs"):
            while (job := await queue.get(job_id)).status in (JobStatus.QUEUED, JobStatus.RUNNING):
                seen.append((await analysis_row(db, analysis_id)).progress)
                await asyncio.sleep(0.1)
        document = json.loads(await store.read_bytes(f"{prefix}analysis.json"))
        for key in (job.result or {}).get("outputs", []):
            assert await store.exists(key), key
        return job, await analysis_row(db, analysis_id), seen, document

    job, analysis, seen, document = run(backend, body)
    assert job.status == JobStatus.SUCCEEDED, job.error
    summary = job.result
    assert summary is not None
    prefix = summary["run_key"]
    assert prefix == f"users/{analysis.owner_id}/analyses/{analysis.id}/"
    assert {f"{prefix}{name}" for name in ("analysis.json", "overlay.mp4", "poses.parquet", "quality.json")} <= set(
        summary["outputs"]
    )
    assert summary["frames"] == document["pose"]["frames"] == 40
    assert summary["detection_rate"] == document["pose"]["detection_rate"]
    assert summary["quality_score"] == document["quality"]["score"]
    assert summary["movement_family"] == document["biomechanics"]["movement"]["family"]
    assert document["subject"]["height_m"] == 1.65
    assert document["video"]["filename"] == "video"  # the user's file name never reached the disk
    assert (analysis.status, analysis.progress, analysis.summary, analysis.run_key) == (
        JobStatus.SUCCEEDED,
        1.0,
        summary,
        prefix,
    )
    assert any(0 < fraction < 1 for fraction in seen)
    assert seen == sorted(seen)


def test_a_truncated_video_fails_the_job_for_good_and_the_worker_survives(
    pool: LocalProcessExecutor, tmp_path: Path
) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'platform.db'}")
    store = LocalBlobStore(tmp_path / "blobs")
    _, build, _ = HOSTILE_BUILDERS["truncated_half"]
    build(tmp_path / "half.mp4")

    async def body(db: Database) -> tuple[Job, Analysis, Job, bool]:
        job_id, analysis_id, prefix = await submit_analysis(db, store, (tmp_path / "half.mp4").read_bytes())
        queue = JobQueue(db)
        async with runner_for(db, pool, backend, tmp_path / "blobs"):
            (job,) = await settle(queue, [job_id], timeout_s=30)
            echo_id = await queue.enqueue("echo", {"still": "alive"}, owner_id=None)
            (echo,) = await settle(queue, [echo_id], timeout_s=30)
        return job, await analysis_row(db, analysis_id), echo, await store.exists(f"{prefix}analysis.json")

    job, analysis, echo, uploaded = run(backend, body)
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)  # the same bytes would fail again: no retry
    assert job.error is not None
    assert job.error["code"] == "invalid_video"
    assert job.error["message"]
    assert analysis.status == JobStatus.FAILED
    assert analysis.error == job.error
    assert not uploaded
    assert echo.status == JobStatus.SUCCEEDED
    assert echo.result is not None
    assert echo.result["echo"] == {"still": "alive"}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"video_key": "../etc/passwd", "output_prefix": "out/"}, "invalid blob key"),
        ({"video_key": "videos/a/original", "output_prefix": "out"}, "must end with '/'"),
        ({"video_key": "videos/a/original", "output_prefix": "/abs/"}, "invalid blob prefix"),
        ({"video_key": "v", "output_prefix": "o/", "options": {"calibration_path": "/etc"}}, "unknown analysis"),
        ({"video_key": "v", "output_prefix": "o/", "options": {"workers": 8}}, "unknown analysis"),
        ({"video_key": "v", "output_prefix": "o/", "options": {"height_m": "tall"}}, "height_m must be"),
        ({"video_key": "v", "output_prefix": "o/", "options": {"height_m": True}}, "height_m must be"),
        ({"video_key": "v", "output_prefix": "o/", "options": {"overlay": 1}}, "overlay must be"),
        ({"video_key": "v", "output_prefix": "o/", "options": {"cutoff_hz": "fast"}}, "cutoff_hz must be"),
    ],
)
def test_analysis_payloads_are_checked(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        analysis_payload(**arguments)


def test_a_checked_payload_keeps_the_options() -> None:
    payload = analysis_payload(
        video_key="users/u/videos/v/original", output_prefix="users/u/analyses/a/", options={"mass_kg": 60}
    )
    assert payload == {
        "video_key": "users/u/videos/v/original",
        "output_prefix": "users/u/analyses/a/",
        "options": {"mass_kg": 60},
    }


def test_a_blob_store_config_needs_its_location() -> None:
    with pytest.raises(InvalidInputError, match="root"):
        BlobStoreConfig("local")
    with pytest.raises(InvalidInputError, match="bucket"):
        BlobStoreConfig("s3")
    assert "secret" not in repr(BlobStoreConfig("s3", bucket="bkt", secret_access_key="secret"))
