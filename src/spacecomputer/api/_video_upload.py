"""What the video routes do apart from HTTP: chunk plans, capped chunk bodies, content sniffing, probing, ranges.

Upload defences, in the order a hostile upload meets them:

1. ``POST /videos`` refuses a declared size over ``settings.max_upload_bytes`` (or the probe cap
   ``limits.max_file_size_bytes``) with 413 before a byte is sent, and plans fixed-size chunks (:class:`ChunkPlan`).
2. Each chunk body is counted while it streams in (:func:`read_chunk_body`): past the chunk's own size the read
   stops and the answer is 413, whatever ``Content-Length`` said; its SHA-256 must match the client's before it is
   stored.
3. The first chunk's leading bytes must carry the signature of an accepted container (:func:`sniff_container`):
   MP4/MOV, Matroska/WebM, AVI, MPEG-TS, MPEG-PS or FLV — the demuxers of
   :data:`~spacecomputer.vision.ACCEPTED_FORMATS`. Anything else (an image, executable, archive, web page) is 415.
4. At completion the stored file is probed by :func:`~spacecomputer.vision.probe_video` with the pipeline's caps
   (pixels, duration, frame rate, frame count) — header checks first, one frame decoded for its rotation, nothing
   more (:func:`probe_stored_video`).

Storage keys are the server's (:func:`video_storage_key`): ``users/<owner>/videos/<video>/original``, its parts in
``original.parts/``; the client's file name is only displayed.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import struct
import tempfile
import unicodedata
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacecomputer.api._platform import user_blob_prefix
from spacecomputer.api._tracing_stores import TracedBlobStore
from spacecomputer.config import VideoLimits
from spacecomputer.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    SpaceComputerError,
    UnsupportedVideoError,
    VideoTooLargeError,
)
from spacecomputer.storage import BlobInfo, BlobStore, LocalBlobStore
from spacecomputer.storage._blobs import _part_key

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "MAX_CHUNKS",
    "MAX_CHUNK_BYTES",
    "MIN_CHUNK_BYTES",
    "SNIFF_BYTES",
    "ByteRange",
    "ChunkPlan",
    "assemble_upload",
    "blob_info",
    "display_filename",
    "local_video_file",
    "parse_byte_range",
    "probe_stored_video",
    "read_chunk_body",
    "sniff_container",
    "stored_chunks",
    "video_blob_prefix",
    "video_media_type",
    "video_storage_key",
]

MIN_CHUNK_BYTES = 256 * 1024
"""Smallest chunk size a client may choose, bytes (our own bound: smaller chunks cost a request per 256 KiB)."""
MAX_CHUNK_BYTES = 16 * 1024 * 1024
"""Largest chunk size, bytes: also the most one chunk request may carry (our own bound on memory per request)."""
DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
"""Chunk size when the client names none, bytes."""
MAX_CHUNKS = 4096
"""Most chunks one upload may have (our own bound: a 4 GiB upload needs chunks of 1 MiB or more)."""
SNIFF_BYTES = 4096
"""Leading bytes of the first chunk examined for a container signature."""
_STATUS_CONCURRENCY = 16
_TS_PACKET_BYTES = 188
_MP4_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
_CONTAINER_NAMES = "MP4/MOV, Matroska/WebM, AVI, MPEG-TS, MPEG-PS, FLV"
_RANGE = re.compile(r"bytes=(\d{0,18})-(\d{0,18})", re.ASCII)  # longer numbers: no byte position, ignored
_PATH_SEPARATORS = re.compile(r"[/\\]")


def video_blob_prefix(owner_id: uuid.UUID, video_id: uuid.UUID) -> str:
    """Return the prefix of every blob of one video (``users/<owner>/videos/<video>/``)."""
    return f"{user_blob_prefix(owner_id)}videos/{video_id}/"


def video_storage_key(owner_id: uuid.UUID, video_id: uuid.UUID) -> str:
    """Return the key of a video's file (``users/<owner>/videos/<video>/original``); its parts live beside it."""
    return f"{video_blob_prefix(owner_id, video_id)}original"


def display_filename(name: str) -> str:
    r"""Return the last path segment of ``name`` without control or format characters, at most 255 characters.

    The name is only shown to the user (never part of a storage key): ``../../etc/passwd.mp4`` becomes
    ``passwd.mp4``, a right-to-left override is dropped.

    Examples
    --------
    >>> display_filename("..\\videos/../run\u202e4pm.mov")
    'run4pm.mov'

    Raises
    ------
    ValueError
        Nothing visible is left (a pydantic validator turns it into a 422).

    """
    visible = "".join(character for character in name if unicodedata.category(character)[0] != "C")
    base = _PATH_SEPARATORS.split(visible)[-1].strip()
    if not base:
        raise ValueError("expected a file name such as clip.mp4")
    return base[:255]


@dataclass(frozen=True)
class ChunkPlan:
    """Fixed-size chunks covering ``total_size_bytes``: chunk ``i`` starts at ``i * chunk_size_bytes``.

    Every chunk has ``chunk_size_bytes`` except the last, which holds what is left (1 to ``chunk_size_bytes``).
    """

    total_size_bytes: int
    chunk_size_bytes: int

    @classmethod
    def checked(cls, *, total_size_bytes: int, chunk_size_bytes: int, max_upload_bytes: int) -> ChunkPlan:
        """Return the plan of a new upload, or raise if the upload is too large or needs too many chunks.

        Raises
        ------
        VideoTooLargeError
            ``total_size_bytes`` is over ``max_upload_bytes`` (413).
        InvalidInputError
            A size outside its bounds, or more than :data:`MAX_CHUNKS` chunks (422).

        """
        if total_size_bytes > max_upload_bytes:
            raise VideoTooLargeError(
                f"an upload of {total_size_bytes} bytes is over the limit of {max_upload_bytes} bytes",
                details={"total_size_bytes": total_size_bytes, "max_upload_bytes": max_upload_bytes},
            )
        if total_size_bytes < 1 or not MIN_CHUNK_BYTES <= chunk_size_bytes <= MAX_CHUNK_BYTES:
            raise InvalidInputError(
                f"expected total_size_bytes ≥ 1 and chunk_size_bytes in [{MIN_CHUNK_BYTES}, {MAX_CHUNK_BYTES}]; "
                f"got {total_size_bytes} and {chunk_size_bytes}",
                details={"total_size_bytes": total_size_bytes, "chunk_size_bytes": chunk_size_bytes},
            )
        plan = cls(total_size_bytes=total_size_bytes, chunk_size_bytes=chunk_size_bytes)
        if plan.chunk_count > MAX_CHUNKS:
            needed = -(-total_size_bytes // MAX_CHUNKS)
            raise InvalidInputError(
                f"{total_size_bytes} bytes in chunks of {chunk_size_bytes} bytes makes {plan.chunk_count} chunks; "
                f"at most {MAX_CHUNKS} are accepted: use chunks of at least {needed} bytes",
                details={"chunk_count": plan.chunk_count, "max_chunks": MAX_CHUNKS, "min_chunk_size_bytes": needed},
            )
        return plan

    @property
    def chunk_count(self) -> int:
        """Number of chunks."""
        return -(-self.total_size_bytes // self.chunk_size_bytes)

    def chunk_bytes(self, index: int) -> int:
        """Return the size of chunk ``index``, bytes; raise :class:`InvalidInputError` for an index outside the plan."""
        if not 0 <= index < self.chunk_count:
            raise InvalidInputError(
                f"chunk index must be in [0, {self.chunk_count - 1}]; got {index}",
                details={"index": index, "chunk_count": self.chunk_count},
            )
        return min(self.chunk_size_bytes, self.total_size_bytes - index * self.chunk_size_bytes)

    def contiguous_bytes(self, stored: Iterable[int]) -> int:
        """Return how many bytes from the start are covered by an unbroken run of ``stored`` chunks."""
        present = set(stored)
        count = 0
        while count in present:
            count += 1
        return min(count * self.chunk_size_bytes, self.total_size_bytes)


async def read_chunk_body(
    body: AsyncIterable[bytes], *, expected_bytes: int, declared_bytes: int | None, index: int
) -> bytes:
    """Return a chunk's body, counting it as it arrives and refusing it once it passes ``expected_bytes``.

    ``declared_bytes`` (the ``Content-Length``) only refuses early: a body that claims less and sends more is
    stopped at the first byte over.

    Raises
    ------
    VideoTooLargeError
        More than ``expected_bytes`` declared or sent (413); nothing past the limit is read.
    InvalidInputError
        Fewer bytes than ``expected_bytes`` (422).

    """
    details = {"index": index, "expected_bytes": expected_bytes}
    if declared_bytes is not None and declared_bytes > expected_bytes:
        raise VideoTooLargeError(
            f"chunk {index} must be {expected_bytes} bytes; Content-Length says {declared_bytes}",
            details={**details, "declared_bytes": declared_bytes},
        )
    received = bytearray()
    async for piece in body:
        if len(received) + len(piece) > expected_bytes:
            raise VideoTooLargeError(f"chunk {index} must be {expected_bytes} bytes; more arrived", details=details)
        received += piece
    if len(received) != expected_bytes:
        raise InvalidInputError(
            f"chunk {index} must be {expected_bytes} bytes; got {len(received)}",
            details={**details, "received_bytes": len(received)},
        )
    return bytes(received)


def _container_of(head: bytes) -> str | None:
    """Return the accepted container family whose signature ``head`` starts with, or ``None``."""
    if len(head) >= 8 and head[4:8] in _MP4_FIRST_BOXES:
        (box_size,) = struct.unpack(">I", head[:4])
        if box_size in (0, 1) or box_size >= 8:  # 0: to the end of the file; 1: a 64-bit size follows
            return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"FLV\x01"):
        return "flv"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg"
    for skip in (0, 4):  # 188-byte transport packets, or 192-byte ones with a 4-byte timestamp (M2TS)
        step = _TS_PACKET_BYTES + skip
        if len(head) > skip + step and head[skip] == 0x47 and head[skip + step] == 0x47:
            return "mpegts"
    return None


def sniff_container(head: bytes) -> str:
    """Return the container family (``"mp4"``, ``"matroska"``, ``"avi"``, ``"flv"``, ``"mpeg"``, ``"mpegts"``).

    A file's first bytes must carry the signature of one of the accepted containers (our own allow-list, matching
    the demuxers FFmpeg is allowed to use).

    Raises
    ------
    UnsupportedVideoError
        Anything else (415); the message names what the bytes look like (a PNG image, an ELF executable …).

    Examples
    --------
    >>> sniff_container(bytes.fromhex("0000001c") + b"ftypisom" + bytes(16))
    'mp4'

    """
    container = _container_of(head[:SNIFF_BYTES])
    if container is not None:
        return container
    from spacecomputer.vision._video_open import _describe_content  # the vision stack loads on first use

    found, _ = _describe_content(head[:SNIFF_BYTES])
    found = "unrecognised binary data" if found == "binary data" else found
    raise UnsupportedVideoError(
        f"expected a video container ({_CONTAINER_NAMES}), got {found}",
        details={"found": found, "expected": _CONTAINER_NAMES.split(", ")},
    )


async def stored_chunks(blobs: BlobStore, key: str, plan: ChunkPlan) -> list[int]:
    """Return the indices of the chunks of an upload to ``key`` that the blob store holds, ascending."""
    limit = asyncio.Semaphore(_STATUS_CONCURRENCY)

    async def stored(index: int) -> bool:
        async with limit:
            return await blobs.exists(_part_key(key, index))

    found = await asyncio.gather(*(stored(index) for index in range(plan.chunk_count)))
    return [index for index, present in enumerate(found) if present]


async def blob_info(blobs: BlobStore, key: str) -> BlobInfo:
    """Return the size and SHA-256 of a stored blob, reading it once."""
    digest = hashlib.sha256()
    size_bytes = 0
    async for chunk in await blobs.open_range(key):
        size_bytes += len(chunk)
        await asyncio.to_thread(digest.update, chunk)
    return BlobInfo(size_bytes, digest.hexdigest())


async def assemble_upload(blobs: BlobStore, key: str, plan: ChunkPlan) -> BlobInfo:
    """Compose the stored chunks of an upload into ``key``; return the file's size and SHA-256.

    If the parts are gone but the file is there (an earlier completion assembled it, then stopped before
    recording it), the file is read once for its digest instead.

    Raises
    ------
    ConflictError
        Chunks are missing (409); ``details["missing_chunks"]`` lists the first 100.
    NotFoundError
        A part vanished while composing (a concurrent completion took it).

    """
    received = await stored_chunks(blobs, key, plan)
    if len(received) == plan.chunk_count:
        return await blobs.compose(key, part_count=plan.chunk_count, max_bytes=plan.total_size_bytes)
    if await blobs.exists(key):
        return await blob_info(blobs, key)
    missing = sorted(set(range(plan.chunk_count)) - set(received))
    raise ConflictError(
        f"{len(missing)} of {plan.chunk_count} chunks are missing: upload them first",
        details={"missing_chunks": missing[:100], "missing_count": len(missing)},
    )


@asynccontextmanager
async def local_video_file(blobs: BlobStore, key: str) -> AsyncIterator[Path]:
    """Yield a local file holding the blob ``key``: the blob's own file (local store), else a temporary copy.

    The copy is deleted when the block ends. Read it, never write it: on the local store it is the stored video.

    Raises
    ------
    NotFoundError
        No blob at ``key``.

    """
    store = blobs.inner if isinstance(blobs, TracedBlobStore) else blobs
    if isinstance(store, LocalBlobStore):
        if not await store.exists(key):
            raise NotFoundError(f"no blob {key!r}", details={"key": key})
        yield store.path(key)
        return
    with tempfile.TemporaryDirectory(prefix="spacecomputer-video-") as folder:
        path = Path(folder) / "video"
        file = await asyncio.to_thread(path.open, "wb")
        try:
            async for chunk in await blobs.open_range(key):
                await asyncio.to_thread(file.write, chunk)
        finally:
            await asyncio.to_thread(file.close)
        yield path


def _content_type(head: bytes, container: str, codec: str) -> str:
    """Return the media type of a probed video, from its container, codec and first bytes."""
    if container.startswith("mov,mp4"):
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if container.startswith("matroska"):
        return "video/webm" if codec in ("vp8", "vp9", "av1") else "video/x-matroska"
    by_demuxer = {"avi": "video/x-msvideo", "mpegts": "video/mp2t", "mpeg": "video/mpeg", "flv": "video/x-flv"}
    return by_demuxer.get(container, "application/octet-stream")


def video_media_type(probe: Mapping[str, Any]) -> str:
    """Return the ``Content-Type`` of a probed video: the probe's ``content_type``, else its container's type.

    Videos stored by other paths (the sample analysis) may have a probe without ``content_type``; an MP4/MOV
    container is then served as ``video/mp4``.
    """
    known = probe.get("content_type")
    if isinstance(known, str):
        return known
    return _content_type(b"", str(probe.get("container", "")), str(probe.get("codec", "")))


def _without_path(error: SpaceComputerError, path: Path) -> SpaceComputerError:
    """Return ``error`` with the server's file path taken out of its message and details."""
    shown = str(path)
    message = error.message.replace(f": {shown!r}", "").replace(shown, "the video")
    details = {
        name: value.replace(shown, "the video") if isinstance(value, str) else value
        for name, value in error.details.items()
        if name != "path"
    }
    return type(error)(message, details=details)


async def probe_stored_video(blobs: BlobStore, key: str, *, limits: VideoLimits) -> dict[str, Any]:
    """Probe the stored video ``key`` within ``limits``; return what the API keeps and shows of it.

    Returns the probe as JSON types: ``container``, ``codec``, ``content_type``, ``width_px``, ``height_px``
    (upright), ``rotation_deg`` (clockwise), ``fps``, ``is_variable_frame_rate``, ``duration_s``, ``frame_count``,
    ``file_size_bytes`` and ``time_base`` (``"num/den"``); never a server path.

    Raises
    ------
    InvalidVideoError, UnsupportedVideoError, VideoTooLargeError
        As :func:`~spacecomputer.vision.probe_video` (truncated, corrupt, refused, over a cap), its message
        without the server's path.

    """
    from spacecomputer.vision import probe_video  # the vision stack (about a second to import) loads on first use

    async with local_video_file(blobs, key) as path:
        try:
            info = await asyncio.to_thread(probe_video, path, limits=limits)
        except SpaceComputerError as error:
            raise _without_path(error, path) from None
        head = await asyncio.to_thread(_read_head, path)
    document = info.to_dict()
    del document["path"]
    document["content_type"] = _content_type(head, info.container, info.codec)
    return document


def _read_head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(16)


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``[start, end)`` of a blob asked for by a ``Range`` header; empty when nothing of it exists."""

    start: int
    end: int

    @property
    def satisfiable(self) -> bool:
        """Whether any requested byte exists (else the answer is 416)."""
        return self.start < self.end


def parse_byte_range(header: str | None, size_bytes: int) -> ByteRange | None:
    """Return the one byte range ``header`` asks of a blob of ``size_bytes``, or ``None`` to send it whole.

    Accepts ``bytes=a-b``, ``bytes=a-`` and the suffix form ``bytes=-n`` (RFC 9110 §14.1.2), clipped to the blob.
    A missing or malformed header, another unit or several ranges give ``None``: RFC 9110 lets a server ignore
    a Range it does not honour and send the whole representation.

    Examples
    --------
    >>> parse_byte_range("bytes=0-99", 1000), parse_byte_range("bytes=-100", 1000)
    (ByteRange(start=0, end=100), ByteRange(start=900, end=1000))
    >>> parse_byte_range("bytes=1000-", 1000).satisfiable
    False

    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        return ByteRange(max(size_bytes - int(last), 0), size_bytes) if int(last) > 0 else ByteRange(0, 0)
    start = int(first)
    if last and int(last) < start:
        return None
    end = size_bytes if not last else min(int(last) + 1, size_bytes)
    return ByteRange(start, end) if start < size_bytes else ByteRange(start, start)
