"""``/videos``: resumable chunked uploads, metadata, delete, and streaming downloads with HTTP Range.

An upload, step by step::

    POST /videos                       {filename, total_size_bytes, sha256, chunk_size_bytes?, content_type?}
                                       → 201 {id, chunk_size_bytes, chunk_count, upload_url, …}
    PUT  /videos/{id}/chunks/{index}   raw bytes of chunk index (offset index × chunk_size_bytes),
                                       header Content-SHA256 (or X-Chunk-SHA256): its hex SHA-256 → 200
    GET  /videos/{id}/upload           which chunks are stored, which are missing (resume from there)
    POST /videos/{id}/complete         assemble, check size and SHA-256, probe → 200 {status: "ready", probe}

Chunks may arrive in any order, in parallel, and again (a re-sent chunk replaces itself): a dropped connection
loses only the chunk in flight. The defences (size cap counted on the bytes, checksums, container signature, probe
caps, server-made storage keys) are described in :mod:`spacecomputer.api._video_upload`.

Status codes: 413 an upload or chunk over its size; 415 content that is not an accepted video container; 422 bad
input, a wrong chunk size or checksum, a truncated or corrupt video; 409 an upload that is not (or no longer)
uploading, or completed with chunks missing, or the download of a video that is not ready; 416 a download's
``Range`` that selects no byte of the video; 404 another user's video, as for one that does not exist. Each route's
OpenAPI entry names the ones it can answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from spacecomputer.api._deps import (
    API_PREFIX,
    MAX_PAGE_OFFSET,
    BlobsDep,
    CurrentPrincipal,
    SessionDep,
    SettingsDep,
    require_permission,
)
from spacecomputer.api._downloads import RANGE_HEADER_DESCRIPTION, range_responses
from spacecomputer.api._errors import BODY, error_response, error_responses, request_id_of
from spacecomputer.api._schemas import InputModel
from spacecomputer.api._video_upload import (
    DEFAULT_CHUNK_BYTES,
    MAX_CHUNK_BYTES,
    MAX_CHUNKS,
    MIN_CHUNK_BYTES,
    ChunkPlan,
    assemble_upload,
    display_filename,
    parse_byte_range,
    probe_stored_video,
    read_chunk_body,
    sniff_container,
    stored_chunks,
    video_blob_prefix,
    video_media_type,
    video_storage_key,
)
from spacecomputer.api.security import Principal, owned_or_not_found
from spacecomputer.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    SpaceComputerError,
    UnsupportedVideoError,
)
from spacecomputer.storage import BlobRange, BlobStore, Video, VideoStatus

__all__ = [
    "ChunkReceipt",
    "UploadStatus",
    "VideoCreate",
    "VideoPage",
    "VideoProbe",
    "VideoPublic",
    "router",
]

_HEX_SHA256 = r"^[0-9a-fA-F]{64}$"
_VIDEO_MEDIA_TYPE = r"^(video/[a-z0-9.+-]{1,60}|application/octet-stream)$"
_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9._ -]")
_CHUNK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The chunk's raw bytes: chunk_size_bytes of them (the last chunk: what is left).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}

router = APIRouter(prefix=f"{API_PREFIX}/videos", tags=["videos"], responses=error_responses(401, 422))
Uploader = Annotated[Principal, Depends(require_permission("video.upload"))]


class VideoCreate(InputModel):
    """A new upload: what the client will send, and in which chunks (owner, key and status are the server's)."""

    filename: Annotated[str, Field(min_length=1, max_length=1024, description="Shown to the user only.")]
    total_size_bytes: Annotated[int, Field(strict=True, gt=0, description="Size of the whole file, bytes.")]
    sha256: Annotated[str, Field(pattern=_HEX_SHA256, description="Hex SHA-256 of the whole file.")]
    chunk_size_bytes: Annotated[
        int, Field(strict=True, ge=MIN_CHUNK_BYTES, le=MAX_CHUNK_BYTES, description="Bytes per chunk.")
    ] = DEFAULT_CHUNK_BYTES
    content_type: Annotated[
        str, Field(pattern=_VIDEO_MEDIA_TYPE, description="Advisory: the served type is the probed one.")
    ] = "video/mp4"

    @field_validator("filename")
    @classmethod
    def _display_name(cls, filename: str) -> str:
        return display_filename(filename)

    @field_validator("sha256")
    @classmethod
    def _lower_case(cls, digest: str) -> str:
        return digest.lower()


class VideoProbe(BaseModel):
    """What probing the stored video found: sizes upright (after ``rotation_deg`` clockwise), rates in 1/s."""

    container: str
    codec: str
    content_type: str
    width_px: int
    height_px: int
    rotation_deg: int
    fps: float
    is_variable_frame_rate: bool
    duration_s: float
    frame_count: int


def _probe_document(probe: dict[str, Any]) -> dict[str, Any]:
    return {**probe, "content_type": video_media_type(probe)}


class VideoPublic(BaseModel):
    """A video as its owner sees it; ``sha256`` is the declared digest until ``ready``, then the verified one."""

    id: uuid.UUID
    filename: str
    status: VideoStatus
    total_size_bytes: int
    chunk_size_bytes: int
    chunk_count: int
    upload_offset_bytes: int = Field(description="Bytes stored in an unbroken run of chunks from the start.")
    size_bytes: int | None = Field(description="Bytes of the stored video once ready.")
    sha256: str | None
    probe: VideoProbe | None
    error: dict[str, Any] | None = Field(description="Why the upload failed: {code, message, details}.")
    created_at: datetime
    updated_at: datetime
    upload_url: str = Field(description="Where chunk {index} is PUT.")
    content_url: str

    @classmethod
    def of(cls, video: Video) -> VideoPublic:
        """Return the owner's view of ``video``."""
        plan = ChunkPlan(total_size_bytes=video.total_size_bytes, chunk_size_bytes=video.chunk_size_bytes)
        base = f"{API_PREFIX}/videos/{video.id}"
        return cls(
            id=video.id,
            filename=video.filename,
            status=video.status,
            total_size_bytes=video.total_size_bytes,
            chunk_size_bytes=video.chunk_size_bytes,
            chunk_count=plan.chunk_count,
            upload_offset_bytes=video.upload_offset_bytes,
            size_bytes=video.size_bytes,
            sha256=video.sha256,
            probe=None if video.probe is None else VideoProbe.model_validate(_probe_document(video.probe)),
            error=dict(video.error) if video.error is not None else None,
            created_at=video.created_at,
            updated_at=video.updated_at,
            upload_url=f"{base}/chunks/{{index}}",
            content_url=f"{base}/content",
        )


class VideoPage(BaseModel):
    """One page of the caller's videos, newest first."""

    items: list[VideoPublic]
    total: int
    limit: int
    offset: int


class UploadStatus(BaseModel):
    """Where an upload stands: the chunks stored (all once ready, none once failed) and those still to send."""

    id: uuid.UUID
    status: VideoStatus
    chunk_size_bytes: int
    chunk_count: int
    total_size_bytes: int
    received_chunks: list[int]
    missing_chunks: list[int]
    received_bytes: int
    upload_offset_bytes: int = Field(description="Bytes stored in an unbroken run of chunks from the start.")


class ChunkReceipt(BaseModel):
    """A chunk stored: its index, size and verified SHA-256."""

    index: int
    size_bytes: int
    sha256: str


def _plan(video: Video) -> ChunkPlan:
    return ChunkPlan(total_size_bytes=video.total_size_bytes, chunk_size_bytes=video.chunk_size_bytes)


async def _owned_video(session: AsyncSession, principal: Principal, video_id: uuid.UUID) -> Video:
    """Return the caller's video ``video_id`` (404 for a missing one and for anyone else's)."""
    video = await session.get(Video, video_id, populate_existing=True)
    owned_or_not_found(None if video is None else video.owner_id, principal, resource="video", resource_id=video_id)
    assert video is not None  # owned_or_not_found raised otherwise
    return video


def _require_uploading(video: Video) -> None:
    if video.status != VideoStatus.UPLOADING:
        reason = f": {video.error.get('message', '')}" if video.error else ""
        raise ConflictError(
            f"video {video.id} is {video.status.value}, no longer uploading{reason}",
            details={"status": video.status.value, "error": dict(video.error) if video.error else None},
        )


async def _fail_upload(session: AsyncSession, blobs: BlobStore, video: Video, error: SpaceComputerError) -> None:
    """Mark ``video`` failed with ``error`` as the reason and remove every blob it has (parts, assembled file)."""
    await blobs.delete_prefix(video_blob_prefix(video.owner_id, video.id))
    video.status = VideoStatus.FAILED
    video.error = error.to_dict()
    video.size_bytes = None
    await session.commit()


@router.post("", status_code=status.HTTP_201_CREATED, responses=error_responses(*BODY, 403))
async def create_upload(
    body: VideoCreate, principal: Uploader, session: SessionDep, settings: SettingsDep, response: Response
) -> VideoPublic:
    """Start an upload: 413 if ``total_size_bytes`` is over the limit; the answer says how to send the chunks."""
    plan = ChunkPlan.checked(
        total_size_bytes=body.total_size_bytes,
        chunk_size_bytes=body.chunk_size_bytes,
        max_upload_bytes=min(settings.max_upload_bytes, settings.limits.max_file_size_bytes),
    )
    video_id = uuid.uuid4()
    video = Video(
        id=video_id,
        owner_id=principal.user_id,
        filename=body.filename,
        storage_key=video_storage_key(principal.user_id, video_id),
        total_size_bytes=plan.total_size_bytes,
        chunk_size_bytes=plan.chunk_size_bytes,
        sha256=body.sha256,
    )
    session.add(video)
    await session.commit()
    response.headers["Location"] = f"{API_PREFIX}/videos/{video_id}"
    return VideoPublic.of(video)


@router.get("")
async def list_videos(
    principal: CurrentPrincipal,
    session: SessionDep,
    status: Annotated[VideoStatus | None, Query(description="Only videos in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_PAGE_OFFSET)] = 0,
) -> VideoPage:
    """List the caller's videos, newest first."""
    condition = Video.owner_id == principal.user_id
    if status is not None:
        condition = sa.and_(condition, Video.status == status)
    total = await session.scalar(sa.select(sa.func.count()).select_from(Video).where(condition))
    videos = await session.scalars(
        sa.select(Video).where(condition).order_by(Video.created_at.desc(), Video.id).limit(limit).offset(offset)
    )
    return VideoPage(
        items=[VideoPublic.of(video) for video in videos], total=int(total or 0), limit=limit, offset=offset
    )


@router.get("/{video_id}", responses=error_responses(404))
async def read_video(video_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep) -> VideoPublic:
    """Return one of the caller's videos: upload state, then size, digest and probe once ready."""
    return VideoPublic.of(await _owned_video(session, principal, video_id))


@router.delete("/{video_id}", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(404))
async def delete_video(video_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, blobs: BlobsDep) -> None:
    """Delete one of the caller's videos and every blob of it (analyses of it keep their results)."""
    video = await _owned_video(session, principal, video_id)
    # Blobs first: if the store fails, the row stays and the delete can be retried.
    await blobs.delete_prefix(video_blob_prefix(video.owner_id, video.id))
    await session.delete(video)
    await session.commit()


def _chunk_digest(content_sha256: str | None, x_chunk_sha256: str | None) -> str:
    digests = {digest.lower() for digest in (content_sha256, x_chunk_sha256) if digest is not None}
    if len(digests) != 1:
        problem = "both headers are sent and differ" if digests else "neither header is sent"
        raise InvalidInputError(
            f"a chunk needs its hex SHA-256 in Content-SHA256 (or X-Chunk-SHA256); {problem}",
            details={"header": "Content-SHA256"},
        )
    return digests.pop()


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


@router.put(
    "/{video_id}/chunks/{index}",
    max_body_size=MAX_CHUNK_BYTES,
    openapi_extra=_CHUNK_BODY,
    responses=error_responses(403, 404, 409, 413, 415),
)
async def upload_chunk(
    video_id: uuid.UUID,
    index: Annotated[int, PathParam(ge=0, le=MAX_CHUNKS - 1, description="0-based chunk number.")],
    request: Request,
    principal: Uploader,
    session: SessionDep,
    blobs: BlobsDep,
    content_sha256: Annotated[
        str | None, Header(alias="Content-SHA256", pattern=_HEX_SHA256, description="Hex SHA-256 of the chunk.")
    ] = None,
    x_chunk_sha256: Annotated[str | None, Header(pattern=_HEX_SHA256, description="Same, another name.")] = None,
) -> ChunkReceipt:
    """Store chunk ``index`` (again, if it was): its size and SHA-256 are checked before anything is kept."""
    video = await _owned_video(session, principal, video_id)
    _require_uploading(video)
    digest = _chunk_digest(content_sha256, x_chunk_sha256)
    expected_bytes = _plan(video).chunk_bytes(index)
    await session.commit()  # hold no transaction while the body streams in
    data = await read_chunk_body(
        request.stream(), expected_bytes=expected_bytes, declared_bytes=_content_length(request), index=index
    )
    actual = await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())
    if actual != digest:
        raise InvalidInputError(
            f"chunk {index} arrived with SHA-256 {actual}, not the {digest} its header declares; it was not stored",
            details={"index": index, "declared_sha256": digest, "received_sha256": actual},
        )
    if index == 0:
        try:
            sniff_container(data)
        except UnsupportedVideoError as error:
            await _fail_upload(session, blobs, video, error)
            raise
    await blobs.write_part(video.storage_key, index, data)
    start = index * video.chunk_size_bytes
    await session.execute(  # in-order uploads move the offset on; others are found by GET /upload
        sa.update(Video)
        .where(Video.id == video.id, Video.status == VideoStatus.UPLOADING, Video.upload_offset_bytes == start)
        .values(upload_offset_bytes=start + expected_bytes)
    )
    await session.commit()
    now = await session.scalar(sa.select(Video.status).where(Video.id == video.id))
    if now != VideoStatus.UPLOADING:  # deleted, failed or completed while this chunk streamed in
        await blobs.discard_parts(video.storage_key)
        if now is None:
            raise NotFoundError(f"video {video_id} not found", details={"resource": "video", "id": str(video_id)})
        raise ConflictError(f"video {video_id} stopped uploading while chunk {index} arrived", details={"index": index})
    return ChunkReceipt(index=index, size_bytes=len(data), sha256=actual)


@router.get("/{video_id}/upload", responses=error_responses(404))
async def upload_status(
    video_id: uuid.UUID, principal: CurrentPrincipal, session: SessionDep, blobs: BlobsDep
) -> UploadStatus:
    """Say which chunks are stored and which are missing: after a dropped connection, send the missing ones."""
    video = await _owned_video(session, principal, video_id)
    plan = _plan(video)
    missing: list[int] = []
    offset_bytes = video.upload_offset_bytes
    if video.status == VideoStatus.UPLOADING:
        received = await stored_chunks(blobs, video.storage_key, plan)
        missing = sorted(set(range(plan.chunk_count)) - set(received))
        contiguous = plan.contiguous_bytes(received)
        if contiguous > video.upload_offset_bytes:  # chunks sent out of order have closed the gap
            await session.execute(
                sa.update(Video)
                .where(Video.id == video.id, Video.status == VideoStatus.UPLOADING)
                .where(Video.upload_offset_bytes < contiguous)
                .values(upload_offset_bytes=contiguous)
            )
            await session.commit()
            offset_bytes = contiguous
    else:
        received = list(range(plan.chunk_count)) if video.status == VideoStatus.READY else []
    return UploadStatus(
        id=video.id,
        status=video.status,
        chunk_size_bytes=plan.chunk_size_bytes,
        chunk_count=plan.chunk_count,
        total_size_bytes=plan.total_size_bytes,
        received_chunks=received,
        missing_chunks=missing,
        received_bytes=sum(plan.chunk_bytes(index) for index in received),
        upload_offset_bytes=offset_bytes,
    )


@router.post("/{video_id}/complete", responses=error_responses(403, 404, 409, 413, 415))
async def complete_upload(
    video_id: uuid.UUID, principal: Uploader, session: SessionDep, blobs: BlobsDep, settings: SettingsDep
) -> VideoPublic:
    """Assemble the chunks, check size and SHA-256, probe the video; ``ready`` on success (again: same answer).

    A video that fails its checks is ``failed`` with the reason, its blobs removed: 422 (truncated, corrupt, wrong
    digest), 415 (not an accepted container), 413 (over a probe cap). 409 while chunks are missing.
    """
    video = await _owned_video(session, principal, video_id)
    if video.status == VideoStatus.READY:
        return VideoPublic.of(video)
    _require_uploading(video)
    plan, key = _plan(video), video.storage_key
    await session.commit()  # assembling and probing take a while: no transaction meanwhile
    try:
        info = await assemble_upload(blobs, key, plan)
    except NotFoundError:  # a concurrent completion took the parts
        video = await _owned_video(session, principal, video_id)
        if video.status == VideoStatus.READY:
            return VideoPublic.of(video)
        raise ConflictError(f"video {video_id} is being completed by another request; ask again") from None
    video = await _owned_video(session, principal, video_id)
    if video.status == VideoStatus.READY:
        return VideoPublic.of(video)
    _require_uploading(video)
    if (info.size_bytes, info.sha256) != (plan.total_size_bytes, video.sha256):
        mismatch = InvalidInputError(
            f"the assembled file has {info.size_bytes} bytes and SHA-256 {info.sha256}; the upload declared "
            f"{plan.total_size_bytes} bytes and {video.sha256}",
            details={"size_bytes": info.size_bytes, "sha256": info.sha256, "declared_sha256": video.sha256},
        )
        await _fail_upload(session, blobs, video, mismatch)
        raise mismatch
    try:
        probe = await probe_stored_video(blobs, key, limits=settings.limits)
    except InvalidInputError as error:  # truncated, corrupt, refused container, over a cap
        await _fail_upload(session, blobs, video, error)
        raise
    video.status = VideoStatus.READY
    video.size_bytes = info.size_bytes
    video.upload_offset_bytes = info.size_bytes
    video.probe = probe
    video.error = None
    await session.commit()
    return VideoPublic.of(video)


_RANGE_REFUSED = "The Range starts at or past the end of the video, or is a zero suffix (`bytes=-0`)."
_RANGE_DESCRIPTION = (
    f"{RANGE_HEADER_DESCRIPTION} One that starts at or past the end, or a zero suffix: 416. A malformed one is "
    "ignored (200)."
)
_IF_RANGE_DESCRIPTION = "Sent with Range: the range is served if this is the video's ETag, else the whole video."


def _content_disposition(filename: str) -> str:
    fallback = _NOT_PLAIN_ASCII.sub("_", filename) or "video"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def _streamed(blob_range: BlobRange) -> AsyncIterator[bytes]:
    try:
        async for chunk in blob_range:
            yield chunk
    finally:
        await blob_range.aclose()


@router.get(
    "/{video_id}/content",
    response_class=StreamingResponse,
    responses={
        **range_responses(["video/*", "application/octet-stream"], what="video", refused=_RANGE_REFUSED),
        **error_responses(404, 409),
    },
)
async def download_video(
    video_id: uuid.UUID,
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    blobs: BlobsDep,
    range_header: Annotated[str | None, Header(alias="Range", description=_RANGE_DESCRIPTION)] = None,
    if_range: Annotated[str | None, Header(alias="If-Range", description=_IF_RANGE_DESCRIPTION)] = None,
) -> Response:
    """Stream a ready video, whole or one byte range (206 + Content-Range; 416 for a range beyond its end)."""
    video = await _owned_video(session, principal, video_id)
    if video.status != VideoStatus.READY or video.size_bytes is None or video.probe is None:
        raise ConflictError(f"video {video_id} is {video.status.value}: only a ready video can be downloaded")
    await session.commit()
    size_bytes, etag = video.size_bytes, f'"{video.sha256}"'
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Content-Disposition": _content_disposition(video.filename)}
    wanted = parse_byte_range(range_header, size_bytes)
    if wanted is not None and if_range is not None and if_range.strip() != etag:
        wanted = None  # the client's copy is another version: send this one whole (RFC 9110 §13.1.5)
    if wanted is not None and not wanted.satisfiable:
        return error_response(
            416,
            "range_not_satisfiable",
            f"the requested range holds no byte of the video's {size_bytes} bytes",
            request_id=request_id_of(request.scope),
            details={"size_bytes": size_bytes},
            headers={**headers, "Content-Range": f"bytes */{size_bytes}"},
        )
    start, end = (0, size_bytes) if wanted is None else (wanted.start, wanted.end)
    blob_range = await blobs.open_range(video.storage_key, start, end)
    headers["Content-Length"] = str(blob_range.length_bytes)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size_bytes}"
    return StreamingResponse(
        _streamed(blob_range),
        status_code=206 if wanted is not None else 200,
        media_type=video_media_type(video.probe),
        headers=headers,
    )
