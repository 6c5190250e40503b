"""How analyses and videos enter a user's library: an analysis job for a stored video, or files made elsewhere.

- :func:`enqueue_analysis`: the analysis row and its job, in the caller's transaction (``POST /analyses``).
- :func:`import_video`: a local video file stored as a ready video of the user (checked by the same probe as
  every analysis, under a server-generated key).
- :func:`import_run`: a run folder of ``spacecomputer analyze`` stored as a succeeded analysis, its files under
  the analysis's prefix as if its job had uploaded them.
- :func:`seed_sample`: what ``spacecomputer serve`` does for the demo account on a development platform: the
  bundled sample video and its analysis, imported from a run folder or queued as a job, once.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.api._platform import Platform, analysis_blob_prefix, user_blob_prefix
from spacecomputer.api._runs import RUN_FILES
from spacecomputer.athletes import load_run_analysis
from spacecomputer.errors import NotFoundError
from spacecomputer.jobs import analysis_payload
from spacecomputer.jobs._handlers import run_summary
from spacecomputer.storage import Analysis, JobStatus, Video, VideoStatus, utc_now
from spacecomputer.vision._video import probe_video

__all__ = [
    "SeedOutcome",
    "enqueue_analysis",
    "import_run",
    "import_video",
    "seed_sample",
    "video_blob_key",
]

_READ_CHUNK_BYTES = 1024 * 1024


def video_blob_key(owner_id: uuid.UUID, video_id: uuid.UUID) -> str:
    """Return the blob key of a stored video (``users/<owner>/videos/<id>/original``)."""
    return f"{user_blob_prefix(owner_id)}videos/{video_id}/original"


async def enqueue_analysis(
    platform: Platform, session: AsyncSession, *, video: Video, options: Mapping[str, Any]
) -> Analysis:
    """Add an analysis of ``video`` (its owner's) and its queued job to ``session``; the caller commits.

    ``options`` are already checked (:func:`~spacecomputer.api._analysis_schemas.check_analysis_options`).
    """
    analysis_id = uuid.uuid4()
    payload = analysis_payload(
        video_key=video.storage_key, output_prefix=analysis_blob_prefix(video.owner_id, analysis_id), options=options
    )
    job_id = await platform.jobs.enqueue(
        "analysis", payload, owner_id=video.owner_id, max_attempts=platform.settings.job_max_attempts, session=session
    )
    analysis = Analysis(
        id=analysis_id, owner_id=video.owner_id, video_id=video.id, job_id=job_id, options=dict(options)
    )
    session.add(analysis)
    return analysis


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, _READ_CHUNK_BYTES):
            yield chunk


async def import_video(platform: Platform, owner_id: uuid.UUID, path: Path, *, filename: str) -> Video:
    """Store the local video ``path`` as a ready video of ``owner_id`` (display name ``filename``) and return it.

    Raises
    ------
    InvalidVideoError, VideoTooLargeError, UnsupportedVideoError
        The probe refuses the file (the same checks as an analysis).

    """
    info = await asyncio.to_thread(probe_video, path)
    probe = {name: value for name, value in info.to_dict().items() if name != "path"}  # no server path leaves
    video_id = uuid.uuid4()
    key = video_blob_key(owner_id, video_id)
    stored = await platform.blobs.put_stream(key, _file_chunks(path))
    video = Video(
        id=video_id,
        owner_id=owner_id,
        filename=filename[:255],
        storage_key=key,
        total_size_bytes=stored.size_bytes,
        chunk_size_bytes=stored.size_bytes,
        upload_offset_bytes=stored.size_bytes,
        status=VideoStatus.READY,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        probe=probe,
    )
    try:
        async with platform.database.session() as session, session.begin():
            session.add(video)
    except BaseException:
        await platform.blobs.delete(key)
        raise
    return video


async def import_run(platform: Platform, owner_id: uuid.UUID, run_dir: Path, *, video_id: uuid.UUID | None) -> Analysis:
    """Store the run folder ``run_dir`` as a succeeded analysis of ``owner_id`` (of ``video_id``) and return it.

    Only the files of :data:`~spacecomputer.api._runs.RUN_FILES` are taken; ``analysis.json`` must be a valid
    analysis document and ``poses.parquet`` present. The options recorded are the run's subject (height, mass,
    sport).

    Raises
    ------
    NotFoundError
        ``run_dir`` has no ``analysis.json`` or no pose file.
    InvalidInputError
        ``analysis.json`` is not a valid analysis document.

    """
    document = await asyncio.to_thread(load_run_analysis, run_dir)
    if not (run_dir / document.files.poses).is_file():
        raise NotFoundError(f"run {run_dir} lacks its pose file {document.files.poses}", details={"run": str(run_dir)})
    analysis_id = uuid.uuid4()
    prefix = analysis_blob_prefix(owner_id, analysis_id)
    outputs = []
    try:
        for name in RUN_FILES:
            if (run_dir / name).is_file():
                await platform.blobs.put_stream(prefix + name, _file_chunks(run_dir / name))
                outputs.append(prefix + name)
        subject = document.subject
        options = {"height_m": subject.height_m, "mass_kg": subject.mass_kg, "sport": subject.sport}
        now = utc_now()
        analysis = Analysis(
            id=analysis_id,
            owner_id=owner_id,
            video_id=video_id,
            options={name: value for name, value in options.items() if value is not None},
            status=JobStatus.SUCCEEDED,
            progress=1.0,
            run_key=prefix,
            summary={**run_summary(document, run_key=prefix, outputs=outputs), "imported": True},
            started_at=now,
            finished_at=now,
        )
        async with platform.database.session() as session, session.begin():
            session.add(analysis)
    except BaseException:
        await platform.blobs.delete_prefix(prefix)
        raise
    return analysis


@dataclass(frozen=True)
class SeedOutcome:
    """What :func:`seed_sample` did: ``present`` (nothing to do), ``imported`` (a run folder) or ``queued`` (a job)."""

    action: Literal["present", "imported", "queued"]
    video_id: uuid.UUID
    analysis_id: uuid.UUID


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_READ_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


async def seed_sample(
    platform: Platform,
    owner_id: uuid.UUID,
    *,
    sample_video: Path,
    options: Mapping[str, Any],
    seed_run: Path | None = None,
) -> SeedOutcome:
    """Give ``owner_id`` the sample video and an analysis of it, unless it has one that is not failed or cancelled.

    The video is stored once (found again by its SHA-256). Its analysis is ``seed_run`` imported (a run of that
    video made by ``spacecomputer analyze``) when given, else a job with ``options`` queued for the runner.

    Raises
    ------
    InvalidVideoError
        ``sample_video`` cannot be probed.
    NotFoundError, InvalidInputError
        ``seed_run`` is not a valid run folder.

    """
    digest = await asyncio.to_thread(_sha256, sample_video)
    async with platform.database.session() as session:
        video = await session.scalar(
            sa.select(Video)
            .where(Video.owner_id == owner_id, Video.sha256 == digest, Video.status == VideoStatus.READY)
            .order_by(Video.created_at)
            .limit(1)
        )
        if video is not None:
            alive = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED)
            existing = await session.scalar(
                sa.select(Analysis.id).where(Analysis.video_id == video.id, Analysis.status.in_(alive)).limit(1)
            )
            if existing is not None:
                return SeedOutcome("present", video.id, existing)
    if video is None:
        video = await import_video(platform, owner_id, sample_video, filename=sample_video.name)
    if seed_run is not None:
        analysis = await import_run(platform, owner_id, seed_run, video_id=video.id)
        return SeedOutcome("imported", video.id, analysis.id)
    async with platform.database.session() as session, session.begin():
        analysis = await enqueue_analysis(platform, session, video=video, options=options)
    return SeedOutcome("queued", video.id, analysis.id)
