"""Builders of small test videos, good and hostile, shared by the vision tests and the CLI tests.

Good clips
    ``write_clip(path, ...)`` encodes a tiny clip with PyAV (H.264 by default, 32x16 px, 12 frames at
    30 fps). The options set explicit pts (variable frame rate), a display rotation, stream tags, keyframe
    spacing, B-frames, another codec or another container. Every frame is ``clip_frame(index, ...)``: four
    coloured quadrants (red top-left, green top-right, blue bottom-left, grey bottom-right, its level
    varying with the index), so any rotation or mirror can be told apart. Fixture ``clip``
    (``tests/conftest.py``) is the default clip in ``tmp_path``.

MP4 surgery
    ``mp4_box_offset(data, path)`` finds a box (e.g. ``("moov", "trak", "mdia", "minf", "stbl", "stsd")``)
    in an MP4. ``garble_mdat(path)`` overwrites the media data with seeded random bytes: the container
    stays valid but no frame decodes.

Hostile inputs
    Fixture ``hostile_video`` (in ``tests/conftest.py``) is parametrised over every case below. It
    builds the case in ``tmp_path`` and returns ``HostileVideo(name, path, error)``, where ``error`` is
    the exact error class ``probe_video`` must raise (the CLI should exit non-zero with that error's code)::

        missing, directory, fifo, empty, text_as_mp4, png_as_mp4, executable_as_mp4, truncated_half,
        truncated_1kb, audio_only_m4a, audio_only_mp4, garbage_mdat, huge_dimensions,
        invalid_dimensions, long_duration, high_fps, m3u8_playlist, ffconcat_list,
        concat_list_as_mp4, url
"""

from __future__ import annotations

import os
import random
import struct
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from spacecomputer.errors import (
    InvalidVideoError,
    SpaceComputerError,
    UnsupportedVideoError,
    VideoTooLargeError,
)

STSD_PATH = ("moov", "trak", "mdia", "minf", "stbl", "stsd")


def clip_frame(index: int, width_px: int = 32, height_px: int = 16) -> NDArray[np.uint8]:
    """Return frame ``index`` of a test clip: RGB quadrants, the grey one's level depending on ``index``."""
    image = np.empty((height_px, width_px, 3), dtype=np.uint8)
    half_h, half_w = height_px // 2, width_px // 2
    image[:half_h, :half_w] = (220, 30, 30)
    image[:half_h, half_w:] = (30, 220, 30)
    image[half_h:, :half_w] = (30, 30, 220)
    image[half_h:, half_w:] = 60 + (index * 13) % 160
    return image


def write_clip(
    path: Path,
    *,
    width_px: int = 32,
    height_px: int = 16,
    frame_count: int = 12,
    fps: int = 30,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    rotation_ccw_deg: float | None = None,
    tags: Mapping[str, str] | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    container_format: str | None = None,
    x264_params: str | None = None,
) -> Path:
    """Encode a test clip; ``pts`` (in ``time_base`` units, default ``1/fps``) sets uneven frame times."""
    frame_pts = list(range(frame_count)) if pts is None else list(pts)
    tick = time_base or Fraction(1, fps)
    options = {"x264-params": x264_params} if x264_params else {}
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width_px, height_px, pix_fmt
        stream.codec_context.time_base = tick
        if rotation_ccw_deg is not None:
            stream.set_display_rotation(rotation_ccw_deg)
        stream.metadata.update(tags or {})
        for index, frame_pts_ticks in enumerate(frame_pts):
            frame = av.VideoFrame.from_ndarray(clip_frame(index, width_px, height_px), format="rgb24")
            frame.pts, frame.time_base = frame_pts_ticks, tick
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_audio_only(path: Path) -> Path:
    """Encode a tenth of a second of silent AAC audio, with no video stream."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for index in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, index * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def png_bytes() -> bytes:
    """Return a small PNG image, encoded by FFmpeg."""
    context = av.CodecContext.create("png", "w")
    context.width, context.height, context.pix_fmt = 16, 16, "rgb24"
    packets = context.encode(av.VideoFrame.from_ndarray(clip_frame(0, 16, 16), format="rgb24"))
    return bytes(packets[0])


def mp4_box_offset(data: bytes | bytearray, path: Sequence[str]) -> int:
    """Return the byte offset of the box at ``path`` (nested box types), searching each level in order."""
    start, end, found = 0, len(data), -1
    for box_type in path:
        offset = start
        while offset + 8 <= end:
            size, kind = struct.unpack(">I4s", data[offset : offset + 8])
            if kind == box_type.encode():
                break
            offset += size
        else:
            raise KeyError(f"no {box_type!r} box in {path}")
        start, end, found = offset + 8, offset + size, offset
    return found


def garble_mdat(path: Path, seed: int = 0) -> Path:
    """Overwrite the payload of an MP4's ``mdat`` box with seeded random bytes, keeping its size."""
    data = bytearray(path.read_bytes())
    offset = mp4_box_offset(data, ["mdat"])
    (size,) = struct.unpack(">I", data[offset : offset + 4])
    data[offset + 8 : offset + size] = random.Random(seed).randbytes(size - 8)
    path.write_bytes(bytes(data))
    return path


def _sized_raw_mov(path: Path, width_px: int, height_px: int) -> Path:
    """A raw RGB MOV whose sample entry declares ``width_px`` x ``height_px`` (its frames stay 32x16)."""
    write_clip(path, codec="rawvideo", pix_fmt="rgb24", frame_count=3, container_format="mov")
    data = bytearray(path.read_bytes())
    struct.pack_into(">HH", data, mp4_box_offset(data, STSD_PATH) + 16 + 32, width_px, height_px)
    path.write_bytes(bytes(data))
    return path


def _truncated(path: Path, keep: Callable[[int], int]) -> Path:
    data = write_clip(path.with_suffix(".whole.mp4")).read_bytes()
    path.write_bytes(data[: keep(len(data))])
    return path


def _text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _directory(path: Path) -> Path:
    path.mkdir()
    return path


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _playlist(path: Path) -> Path:
    segment = write_clip(path.with_name("segment.mp4"))
    return _text(path, f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.4,\n{segment.name}\n#EXT-X-ENDLIST\n")


HOSTILE_BUILDERS: dict[str, tuple[str, Callable[[Path], object], type[SpaceComputerError]]] = {
    "missing": ("missing.mp4", lambda path: None, InvalidVideoError),
    "directory": ("folder.mp4", _directory, InvalidVideoError),
    "empty": ("empty.mp4", lambda path: _bytes(path, b""), InvalidVideoError),
    "text_as_mp4": (
        "notes.mp4",
        lambda path: _text(path, "squat 3x5 at 100 kg\nfelt good\n"),
        InvalidVideoError,
    ),
    "png_as_mp4": ("image.mp4", lambda path: _bytes(path, png_bytes()), InvalidVideoError),
    "executable_as_mp4": (
        "program.mp4",
        lambda path: _bytes(path, Path(sys.executable).read_bytes()[:16384]),
        InvalidVideoError,
    ),
    "truncated_half": ("half.mp4", lambda path: _truncated(path, lambda size: size // 2), InvalidVideoError),
    "truncated_1kb": ("head.mp4", lambda path: _truncated(path, lambda size: 1024), InvalidVideoError),
    "audio_only_m4a": ("audio.m4a", write_audio_only, InvalidVideoError),
    "audio_only_mp4": ("audio.mp4", write_audio_only, InvalidVideoError),
    "garbage_mdat": ("garbage.mp4", lambda path: garble_mdat(write_clip(path)), InvalidVideoError),
    "huge_dimensions": ("huge.mov", lambda path: _sized_raw_mov(path, 16000, 16000), VideoTooLargeError),
    "invalid_dimensions": ("invalid.mov", lambda path: _sized_raw_mov(path, 65535, 65535), InvalidVideoError),
    "long_duration": (
        "long.mp4",
        lambda path: write_clip(path, frame_count=5, pts=[0, 1000, 2000, 3000, 4000], time_base=Fraction(1)),
        VideoTooLargeError,
    ),
    "high_fps": ("fast.mp4", lambda path: write_clip(path, fps=5000), VideoTooLargeError),
    "m3u8_playlist": ("playlist.m3u8", _playlist, UnsupportedVideoError),
    "ffconcat_list": (
        "list.txt",
        lambda path: _text(path, f"ffconcat version 1.0\nfile '{write_clip(path.with_suffix('.mp4')).name}'\n"),
        UnsupportedVideoError,
    ),
    "concat_list_as_mp4": (
        "list.mp4",
        lambda path: _text(path, f"file '{write_clip(path.with_name('part.mp4'))}'\n"),
        UnsupportedVideoError,
    ),
}
if hasattr(os, "mkfifo"):
    HOSTILE_BUILDERS["fifo"] = ("pipe.mp4", _fifo, InvalidVideoError)


@dataclass(frozen=True)
class HostileVideo:
    """A hostile input: ``path`` to pass to ``probe_video`` (or the CLI) and the exact ``error`` expected."""

    name: str
    path: str
    error: type[SpaceComputerError]


SAMPLE_VIDEO = Path(__file__).resolve().parents[1] / "data" / "videos" / "sports2d-demo.mp4"


def write_rgb_frames(path: Path, frames: list[NDArray[np.uint8]], *, fps: int = 30) -> Path:
    """Encode RGB frames to a near-lossless H.264 MP4 at ``path``."""
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as out:
        # Near-lossless, so that BlazePose sees what it sees in the sample itself.
        stream = out.add_stream("libx264", rate=fps, options={"crf": "8"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def sample_frames(count: int) -> list[NDArray[np.uint8]]:
    """The first frames of the sample video, full size (BlazePose's person detector, starting cold, finds
    the athlete reliably from frame 45 on; before that only its tracking, warmed up earlier, does)."""
    frames = []
    with av.open(str(SAMPLE_VIDEO)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return frames
