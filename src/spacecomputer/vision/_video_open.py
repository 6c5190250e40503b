"""Open a local video file for FFmpeg, refusing anything that is not one.

FFmpeg can do far more than read a local video: follow URLs, expand playlists and concat lists,
open image sequences. :func:`_checked_path`, :func:`_checked_file_size` and :func:`_open_container`
refuse all of that before FFmpeg parses a byte:

1. a path that starts with a URL scheme (``http:``, ``concat:``, ``file:``...) is refused;
2. the path must be an existing, non-empty regular file within the size cap (``os.stat``);
3. its first bytes are sniffed: text (playlists, concat lists, manifests) and well-known non-video
   files (images, executables, archives) are refused;
4. Python opens it (FFmpeg's protocol layer never parses the name) and FFmpeg demuxes the file
   object with ``format_whitelist`` = :data:`ACCEPTED_FORMATS`; a demuxer that tries to open another
   file or URL is refused (``io_open``), and ``protocol_whitelist=file`` backs that up.

Every refusal is built by :func:`_refused`: the message ends with the path quoted and escaped, on
one line whatever the file name. :func:`_check_cap` refuses a value over a
:class:`~spacecomputer.config.VideoLimits` cap, naming the environment variable that raises it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TypeVar

import av
from av.container import InputContainer

from spacecomputer.config import VideoLimits
from spacecomputer.errors import (
    InvalidVideoError,
    SpaceComputerError,
    UnsupportedVideoError,
    VideoTooLargeError,
)

__all__ = ["ACCEPTED_FORMATS"]

_E = TypeVar("_E", bound=SpaceComputerError)

ACCEPTED_FORMATS = ("mov", "mp4", "matroska", "webm", "avi", "mpegts", "mpeg", "flv")
"""FFmpeg demuxers we accept: MP4/MOV (and 3GP), Matroska/WebM, AVI, MPEG-TS, MPEG-PS, FLV."""

_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: "C:" is a drive
_SNIFF_BYTES = 4096
_BINARY = "binary data"
_NOT_VIDEO_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
)
_LIST_STARTS = ("#extm3u", "ffconcat", "<?xml", "<mpd", "v=0")  # HLS, concat, XML/DASH, SDP


def _checked_path(path: str | os.PathLike[str]) -> Path:
    text = os.fspath(path)
    scheme = _URL_SCHEME.match(text)
    if scheme:
        what = f"expected a local file, got a URL or protocol ({scheme.group(1)}:); prefix such names with ./"
        raise _refused(UnsupportedVideoError, what, Path(text), scheme=scheme.group(1))
    return Path(text)


def _checked_file_size(path: Path, limits: VideoLimits) -> int:
    try:
        info = os.stat(path)
    except OSError as error:
        raise _refused(InvalidVideoError, f"expected a video file, got {error.strerror}", path) from None
    if stat.S_ISDIR(info.st_mode):
        raise _refused(InvalidVideoError, "expected a video file, got a directory", path)
    if not stat.S_ISREG(info.st_mode):
        raise _refused(InvalidVideoError, "expected a regular video file, got a FIFO, device or socket", path)
    if info.st_size == 0:
        raise _refused(InvalidVideoError, "expected a video file, got an empty (0-byte) file", path)
    _check_cap("max_file_size_bytes", info.st_size, limits, "file size", "bytes", path)
    return info.st_size


@contextmanager
def _open_container(
    path: Path,
    *,
    allowed_demuxers: str = ",".join(ACCEPTED_FORMATS),
    expected_size: int | None = None,
    sniff: bool = False,
) -> Iterator[InputContainer]:
    """Open ``path`` ourselves, check it is (still) a regular file of ``expected_size``, demux it.

    ``sniff`` first refuses text and non-video signatures (:func:`_describe_content`). Only
    ``allowed_demuxers`` may read the file, and any nested open (playlist segment, concat entry,
    external reference) raises :class:`UnsupportedVideoError`, whatever the demuxer.
    """

    def nonblocking(name: str, flags: int) -> int:  # a FIFO swapped in after the stat must not block us
        return os.open(name, flags | os.O_NONBLOCK)

    def refuse(url: str, flags: int, options: dict[str, str]) -> None:  # any nested open, whatever demuxer
        raise _refused(UnsupportedVideoError, f"expected a video, got one that tried to open {url!r}", path)

    try:
        file = open(path, "rb", opener=nonblocking)  # noqa: SIM115 - closed by the with statement below
    except OSError as error:
        raise _refused(InvalidVideoError, f"expected a video file, got {error.strerror}", path) from None
    with file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or expected_size not in (None, info.st_size):
            raise _refused(InvalidVideoError, f"expected {expected_size} bytes, got a changed file", path)
        if sniff:
            _refuse_non_video(file.read(_SNIFF_BYTES), path)
            file.seek(0)
        options = {"format_whitelist": allowed_demuxers, "protocol_whitelist": "file"}
        try:
            container = av.open(file, "r", container_options=options, metadata_errors="replace", io_open=refuse)
        except av.error.ArgumentError:  # FFmpeg recognised a format outside the whitelist
            what = f"expected a video container ({', '.join(ACCEPTED_FORMATS)}), got another format"
            raise _refused(UnsupportedVideoError, what, path) from None
        except (av.FFmpegError, OSError) as error:
            what = "expected a video container, got unreadable data (truncated, corrupt or not a video)"
            raise _refused(InvalidVideoError, what, path, ffmpeg_error=str(error)) from None
        with closing(container):
            demuxer = container.format.name
            if not set(demuxer.split(",")) & set(allowed_demuxers.split(",")):
                raise _refused(UnsupportedVideoError, f"expected a video container, got {demuxer}", path)
            yield container


def _describe_content(head: bytes) -> tuple[str, bool]:
    """Name what a file's first bytes are, and whether they refer to other files (playlists, lists).

    Anything that may be a video is ``"binary data"``: FFmpeg decides those.
    """
    for magic, kind in _NOT_VIDEO_MAGIC:
        if head.startswith(magic):
            return kind, False
    if not head:
        return "an empty file", False
    text = head.decode("utf-8", errors="ignore")  # a character cut at the end of head is dropped
    if len(text.encode("utf-8")) < len(head) - 3 or not all(c.isprintable() or c.isspace() for c in text):
        return _BINARY, False
    lines = text.lstrip("\ufeff \t\r\n").lower().splitlines() or [""]
    if lines[0].startswith(_LIST_STARTS) or any(line.strip().startswith("file ") for line in lines):
        return "a playlist, concat list or manifest", True
    return "a text file", False


def _refuse_non_video(head: bytes, path: Path) -> None:
    kind, refers_elsewhere = _describe_content(head)
    if refers_elsewhere:
        raise _refused(UnsupportedVideoError, f"expected a video, got {kind} naming other files", path)
    if kind != _BINARY:
        raise _refused(InvalidVideoError, f"expected a video, got {kind}", path, found=kind)


def _check_cap(name: str, value: float, limits: VideoLimits, what: str, unit: str, path: Path) -> None:
    limit = getattr(limits, name)
    if value > limit:
        env_var = f"SPACECOMPUTER_{name.upper()}"
        message = f"{what} {value:g} {unit} is over the limit {name}={limit:g} (raise it with {env_var})"
        details = {"limit_name": name, "limit": limit, "value": value, "env_var": env_var}
        raise _refused(VideoTooLargeError, message, path, **details)


def _refused(kind: type[_E], message: str, path: Path, **details: object) -> _E:
    """Return a ``kind`` error: ``message``, then the path quoted and escaped (one line, any file name)."""
    return kind(f"{message}: {str(path)!r}", details={"path": str(path), **details})
