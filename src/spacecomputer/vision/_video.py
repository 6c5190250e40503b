"""Video intake: probe a file safely, check it against the caps, stream its frames upright.

Safety. :func:`probe_video` and :func:`iter_frames` open files only through
:mod:`spacecomputer.vision._video_open`, which refuses URLs, special files, playlists, concat
lists and other non-video content before FFmpeg parses a byte, lets only the demuxers in
:data:`ACCEPTED_FORMATS` read the file and refuses any nested open. :func:`probe_video` then checks
the frame size, frame rate, duration and frame count in the header against
:class:`~spacecomputer.config.VideoLimits`; only then is a frame decoded (for its rotation).

Conventions
-----------
``rotation_deg`` is the clockwise rotation a player applies to the stored pixels to show them
upright: from the display matrix, else from a legacy ``rotate`` tag (clockwise degrees). Flips are
ignored; an angle more than 1° from a multiple of 90 is refused. ``width_px``/``height_px`` are the
upright size; a non-square sample aspect ratio is not corrected.

``timestamp_s`` is ``(pts - stream.start_time) * time_base``: the real presentation time, so a
variable frame rate is kept. ``index`` is the frame's rank in presentation order: the number of the
stream's packets with a smaller pts. A full decode and a seek decode therefore give a frame the same
index, and a packet the decoder rejects leaves a gap instead of renumbering the frames after it. (If
the container gives packets no pts, ``index`` is ``round(timestamp_s * fps)``.)
"""

from __future__ import annotations

import bisect
import logging
import math
import os
from collections.abc import Generator, Iterator
from contextlib import closing, suppress
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.container import InputContainer
from av.sidedata.sidedata import Type as SideDataType
from av.video.stream import VideoStream
from numpy.typing import NDArray

from spacecomputer.config import VideoLimits, get_settings
from spacecomputer.errors import InvalidInputError, InvalidVideoError, UnsupportedVideoError
from spacecomputer.vision._video_open import (
    ACCEPTED_FORMATS,
    _check_cap,
    _checked_file_size,
    _checked_path,
    _open_container,
    _refused,
)

__all__ = ["ACCEPTED_FORMATS", "VideoFrame", "VideoInfo", "iter_frames", "probe_video"]

_log = logging.getLogger(__name__)

_PROBE_PACKETS = 120  # demuxed by probe_video: decoded until the first frame, timed for the VFR test
_VFR_TOLERANCE = 0.01
_ROTATION_TOLERANCE_DEG = 1.0


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` learnt about a video; picklable, so it can be sent to workers.

    Attributes
    ----------
    path, container, codec
        The file; FFmpeg's demuxer (``"mov,mp4,m4a,3gp,3g2,mj2"``) and decoder (``"vp9"``) names.
    width_px, height_px, rotation_deg
        Upright (displayed) frame size, pixels; the clockwise rotation (0, 90, 180, 270) giving it.
    fps, is_variable_frame_rate
        Average frame rate, 1/s; whether frame durations differ by more than 1 % (judged on the
        sample index when the container lists every frame, else on the first packets) or FFmpeg's
        real and average rates do.
    duration_s, frame_count
        Stream duration, seconds; frames, from the header, else ``round(duration_s * fps)``.
    file_size_bytes, time_base
        Size when probed (:func:`iter_frames` refuses a changed file); seconds per pts tick.

    """

    path: Path
    container: str
    codec: str
    width_px: int
    height_px: int
    rotation_deg: int
    fps: float
    is_variable_frame_rate: bool
    duration_s: float
    frame_count: int
    file_size_bytes: int
    time_base: Fraction

    def to_dict(self) -> dict[str, object]:
        """Return plain JSON types: the path as a string, the time base as ``"num/den"``."""
        time_base = f"{self.time_base.numerator}/{self.time_base.denominator}"
        return {**asdict(self), "path": str(self.path), "time_base": time_base}


@dataclass(frozen=True, eq=False)
class VideoFrame:
    """One decoded frame: ``image`` is H × W × 3 uint8 RGB, upright; see the module for the rest."""

    index: int
    timestamp_s: float
    image: NDArray[np.uint8]


class _PacketRanks:
    """Rank of a pts among packet pts: ``lower_before`` packets known to be lower, plus those added."""

    def __init__(self, *, lower_before: int = 0) -> None:
        self.lower_before = lower_before
        self._pts: list[int] = []

    def add(self, pts: int) -> None:
        bisect.insort(self._pts, pts)  # packets arrive nearly sorted: mostly an append

    def rank(self, pts: int) -> int:
        return self.lower_before + bisect.bisect_left(self._pts, pts)


@dataclass
class _DecodeStats:
    packets: int = 0
    frames: int = 0
    rejected_packets: int = 0
    demux_failed: bool = False


def probe_video(path: str | os.PathLike[str], *, limits: VideoLimits | None = None) -> VideoInfo:
    """Check that ``path`` is a local video within ``limits`` and describe it.

    Parameters
    ----------
    path
        A local file; URLs and protocol prefixes are refused.
    limits
        Caps on file size, pixels per frame, duration, frame rate and frame count; default
        ``get_settings().limits`` (``SPACECOMPUTER_MAX_*`` environment variables).

    Raises
    ------
    UnsupportedVideoError
        A URL, playlist, concat list, manifest or format outside :data:`ACCEPTED_FORMATS`, or a
        rotation that is not a multiple of 90°.
    InvalidVideoError
        A missing, empty or special file, not a video, no video stream, an impossible header, or no
        frame decodable from the first packets.
    VideoTooLargeError
        A value over a cap; the message names the environment variable that raises it.

    """
    limits = limits if limits is not None else get_settings().limits
    video_path = _checked_path(path)
    size_bytes = _checked_file_size(video_path, limits)
    with _open_container(video_path, expected_size=size_bytes, sniff=True) as container:
        stream = _video_stream(container, video_path)
        _check_frame_size(stream.codec_context.width, stream.codec_context.height, limits, video_path)
        fps, duration_s, frame_count = _checked_timing(container, stream, video_path, limits)
        first, sampled_pts = _first_frame_and_pts(container, stream)
        if first is None:
            what = f"expected video, got zero decodable frames in the first {_PROBE_PACKETS} packets"
            raise _refused(InvalidVideoError, what, video_path, codec=stream.codec_context.name)
        _check_frame_size(first.width, first.height, limits, video_path)
        rotation_deg = _rotation_cw_deg(first, stream, video_path)
        turned = rotation_deg in (90, 270)
        return VideoInfo(
            path=video_path,
            container=container.format.name,
            codec=stream.codec_context.name,
            width_px=first.height if turned else first.width,
            height_px=first.width if turned else first.height,
            rotation_deg=rotation_deg,
            fps=fps,
            is_variable_frame_rate=_is_variable_frame_rate(stream, sampled_pts),
            duration_s=duration_s,
            frame_count=frame_count,
            file_size_bytes=size_bytes,
            time_base=stream.time_base or Fraction(1, 1),
        )


def iter_frames(
    info: VideoInfo, *, start_s: float = 0.0, end_s: float | None = None, max_width_px: int | None = None
) -> Iterator[VideoFrame]:
    """Decode the frames with ``start_s <= timestamp_s < end_s``, one at a time, upright RGB.

    With ``start_s > 0`` the decoder seeks to a keyframe before ``start_s`` and decodes forward;
    indices and pixels equal those of a full decode. The file is closed when the generator is
    exhausted or closed. Packets the decoder rejects are skipped and logged as a warning.

    Parameters
    ----------
    info
        From :func:`probe_video`.
    start_s, end_s
        Time range, seconds on the ``timestamp_s`` scale; ``end_s=None`` (or ``inf``) runs to the end.
    max_width_px
        Downscale (area interpolation) frames wider than this, keeping the aspect ratio, pixels.

    Raises
    ------
    InvalidInputError
        An invalid range or width; raised by the call, before any frame is asked for.
    InvalidVideoError
        The file changed since it was probed, or not a single frame could be decoded.

    """
    end = math.inf if end_s is None else end_s
    if not (math.isfinite(start_s) and start_s >= 0 and end > start_s):
        raise InvalidInputError(
            f"expected 0 <= start_s < end_s (seconds); got start_s={start_s}, end_s={end_s}",
            details={"start_s": start_s, "end_s": end_s},
        )
    if max_width_px is not None and (isinstance(max_width_px, bool) or max_width_px < 1):
        raise InvalidInputError(
            f"expected max_width_px to be a positive number of pixels or None; got {max_width_px}",
            details={"max_width_px": max_width_px},
        )
    return _frames(info, start_s, end, max_width_px)


def _frames(
    info: VideoInfo, start_s: float, end_s: float, max_width_px: int | None
) -> Generator[VideoFrame, None, None]:
    origin, ranks = _packet_ranks(info, start_s, end_s)
    width, height, interpolation = info.width_px, info.height_px, None
    if max_width_px is not None and width > max_width_px:
        width, height, interpolation = max_width_px, max(1, round(height * max_width_px / width)), "AREA"
    coded_width, coded_height = (height, width) if info.rotation_deg in (90, 270) else (width, height)
    stats = _DecodeStats()
    with closing(_decoded_from(info, start_s, stats)) as decoded:
        for frame in decoded:
            if frame.pts is None:
                continue  # untimed (not seen from the accepted demuxers): it cannot be placed
            timestamp_s = float((frame.pts - origin) * info.time_base)
            if timestamp_s < start_s:
                continue
            if timestamp_s >= end_s:
                break
            index = round(timestamp_s * info.fps) if ranks is None else ranks.rank(frame.pts)
            rgb = frame.reformat(coded_width, coded_height, "rgb24", interpolation=interpolation).to_ndarray()
            upright = np.rot90(rgb, k=-(info.rotation_deg // 90))  # a view; the copy drops row padding
            yield VideoFrame(index=index, timestamp_s=timestamp_s, image=np.ascontiguousarray(upright))
    if stats.frames == 0:
        what = f"expected video, got zero decodable frames ({stats.rejected_packets} packets rejected)"
        raise _refused(InvalidVideoError, what, info.path, rejected=stats.rejected_packets)
    if stats.rejected_packets or stats.demux_failed:
        cut = "; the container is truncated or corrupt" if stats.demux_failed else ""
        _log.info("%s: skipped %d packets the decoder rejected%s", info.path, stats.rejected_packets, cut)


def _decoded_from(info: VideoInfo, start_s: float, stats: _DecodeStats) -> Generator[av.VideoFrame, None, None]:
    """Yield decoded frames from a keyframe at or before ``start_s`` to the end of the stream.

    A seek lands on the keyframe whose *decode* time precedes the target, which with B-frames can
    present after it; so while the first frame comes after ``start_s`` we seek 1, 3, 7... s earlier.
    """
    back_s = 0.0
    while True:
        seek_s, back_s = max(0.0, start_s - back_s), 2 * back_s + 1.0
        with _open_container(info.path, expected_size=info.file_size_bytes) as container:
            stream = _video_stream(container, info.path)
            stream.thread_type = "AUTO"  # frame + slice threads; FFmpeg's threaded output is bit-exact
            origin = stream.start_time or 0
            if seek_s > 0:
                try:
                    container.seek(origin + math.floor(seek_s / info.time_base), stream=stream)
                except av.FFmpegError:
                    continue
            with closing(_decode(container, stream, stats)) as frames:
                first = next(frames, None)
                late = first is None or first.pts is None or (first.pts - origin) * info.time_base > start_s
                if seek_s > 0 and late:
                    continue
                if first is not None:
                    yield first
                yield from frames
                return


def _decode(
    container: InputContainer, stream: VideoStream, stats: _DecodeStats
) -> Generator[av.VideoFrame, None, None]:
    """Demux and decode ``stream``; skip packets the decoder rejects, stop where demuxing fails."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets, None)
        except av.FFmpegError:
            stats.demux_failed, packet = True, None
        stats.packets += bool(packet is not None and packet.size)
        try:
            frames = stream.decode(packet)  # None (or the final empty packet) flushes the decoder
        except av.FFmpegError:
            stats.rejected_packets, frames = stats.rejected_packets + 1, []
        stats.frames += len(frames)
        yield from frames
        if packet is None or not packet.size:  # flushed: a second flush would raise EOF
            return


def _packet_ranks(info: VideoInfo, start_s: float, end_s: float) -> tuple[int, _PacketRanks | None]:
    """Return the stream's start pts and the ranks of the packets up to ``end_s``.

    Packets before ``start_s`` are only counted. The ranks are ``None`` if a packet has no pts.
    """
    with _open_container(info.path, expected_size=info.file_size_bytes) as container:
        stream = _video_stream(container, info.path)
        origin = stream.start_time or 0
        ranks = _PacketRanks()
        with suppress(av.FFmpegError):  # truncated or corrupt: rank what can be read, as the decoder will
            for packet in container.demux(stream):
                if not packet.size or packet.is_discard:
                    continue
                if packet.pts is None:
                    return origin, None
                if float((packet.pts - origin) * info.time_base) < start_s:
                    ranks.lower_before += 1
                else:
                    ranks.add(packet.pts)
                # dts <= pts and dts never decreases: once dts passes end_s, no earlier pts follows.
                if packet.dts is not None and (packet.dts - origin) * info.time_base >= end_s:
                    break
        return origin, ranks


def _video_stream(container: InputContainer, path: Path) -> VideoStream:
    """Return the first video stream that is not cover art."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    found = ", ".join(f"{s.type} ({s.codec_context.name})" for s in container.streams) or "no streams"
    raise _refused(InvalidVideoError, f"expected a video stream, found {found}", path, found=found)


def _check_frame_size(width_px: int, height_px: int, limits: VideoLimits, path: Path) -> None:
    if width_px <= 0 or height_px <= 0:
        what = f"expected a frame size of at least 1×1 px, got {width_px}×{height_px} (impossible header)"
        raise _refused(InvalidVideoError, what, path, width_px=width_px, height_px=height_px)
    size = f"frame size {width_px}×{height_px}"
    _check_cap("max_pixels_per_frame", width_px * height_px, limits, size, "px", path)


def _checked_timing(
    container: InputContainer, stream: VideoStream, path: Path, limits: VideoLimits
) -> tuple[float, float, int]:
    """Return frame rate (1/s), duration (s) and frame count from the header, checked against ``limits``."""
    rate = next((r for r in (stream.average_rate, stream.guessed_rate, stream.base_rate) if r), None)
    duration_s = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
    if not duration_s and container.duration:
        duration_s = container.duration / av.time_base
    frames = stream.frames or None
    fps = float(rate) if rate else (frames / duration_s if frames and duration_s else math.nan)
    if not (math.isfinite(fps) and fps > 0):
        raise _refused(InvalidVideoError, f"expected a positive frame rate, got {fps} fps", path)
    _check_cap("max_fps", fps, limits, "frame rate", "fps", path)
    if not (duration_s and math.isfinite(duration_s) and duration_s > 0):
        if frames is None:
            raise _refused(InvalidVideoError, "expected a duration or a frame count, got neither", path)
        duration_s = frames / fps
    _check_cap("max_duration_s", duration_s, limits, "duration", "s", path)
    frame_count = frames if frames is not None else round(duration_s * fps)
    if frame_count <= 0:
        raise _refused(InvalidVideoError, "expected video frames, got a video stream with none", path)
    _check_cap("max_frame_count", frame_count, limits, "frame count", "frames", path)
    return fps, duration_s, frame_count


def _first_frame_and_pts(container: InputContainer, stream: VideoStream) -> tuple[av.VideoFrame | None, list[int]]:
    """Demux up to :data:`_PROBE_PACKETS` packets, decoding until a frame comes out.

    Returns that frame and the packet pts no later packet can precede: all of them at the end of the
    stream, else those below the last dts read (a later packet's pts is at least its dts, at least that).
    """
    first: av.VideoFrame | None = None
    pts: list[int] = []
    last_dts: int | None = None
    with suppress(av.FFmpegError):  # truncated: judge from what could be read
        for count, packet in enumerate(container.demux(stream), start=1):
            if not packet.size:
                return (first if first is not None else next(iter(stream.decode(packet)), None)), pts
            pts += [] if packet.pts is None else [packet.pts]
            last_dts = last_dts if packet.dts is None else packet.dts
            if first is None:
                with suppress(av.FFmpegError):  # an isolated bad packet, skipped by iter_frames too
                    first = next(iter(stream.decode(packet)), None)
            if count >= _PROBE_PACKETS:
                break
    return first, [p for p in pts if last_dts is not None and p < last_dts]


def _is_variable_frame_rate(stream: VideoStream, sampled_pts: list[int]) -> bool:
    entries = stream.index_entries
    if len(entries) >= 3 and len(entries) == stream.frames:  # MP4/MOV list every sample (by dts)
        times = np.fromiter((entry.timestamp for entry in entries), np.int64, len(entries))
    else:
        times = np.asarray(sampled_pts, dtype=np.int64)
    steps = np.diff(np.sort(times))
    tolerance = max(1.0, _VFR_TOLERANCE * float(np.median(steps))) if steps.size >= 2 else math.inf
    irregular = steps.size >= 2 and steps.max() - steps.min() > tolerance
    real, average = stream.base_rate, stream.average_rate
    return bool(irregular or (real and average and abs(float(real / average) - 1.0) > _VFR_TOLERANCE))


def _rotation_cw_deg(frame: av.VideoFrame, stream: VideoStream, path: Path) -> int:
    """Return the clockwise display rotation: the display matrix's, else a legacy ``rotate`` tag's."""
    if SideDataType.DISPLAYMATRIX in frame.side_data:
        counter_clockwise_deg = frame.rotation  # FFmpeg's angle; a degenerate matrix reads as INT_MIN
        clockwise_deg = -float(counter_clockwise_deg) if abs(counter_clockwise_deg) <= 360 else 0.0
    else:
        tag = next((value for key, value in stream.metadata.items() if key.lower() == "rotate"), "0")
        try:
            clockwise_deg = float(tag)
        except ValueError:
            clockwise_deg = math.nan
    quarter_turns = round(clockwise_deg / 90) if math.isfinite(clockwise_deg) else 0
    if not abs(clockwise_deg - 90 * quarter_turns) <= _ROTATION_TOLERANCE_DEG:
        what = f"expected a display rotation in quarter turns, got {clockwise_deg}° (not a multiple of 90)"
        raise _refused(UnsupportedVideoError, what, path, rotation_deg=clockwise_deg)
    return (90 * quarter_turns) % 360
