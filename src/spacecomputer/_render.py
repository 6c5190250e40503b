"""Render ``overlay.mp4``: the cleaned 2D skeleton drawn on every frame of the video.

Rendering decodes the video a second time (the skeleton to draw exists only after cleaning). With
several workers the frames are cut into contiguous time segments, each decoded, drawn and encoded to
its own H.264 file in a worker process; the segments' packets are then copied, in order, into one MP4.
Every segment is encoded with identical settings and absolute timestamps, so the joined stream is one
valid H.264 stream with the input's frame times.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray

from spacecomputer._chunks import plan_chunks
from spacecomputer._parallel import ProgressTick, run_chunked
from spacecomputer.domain import PoseSequence
from spacecomputer.vision._overlay import OverlayWriter
from spacecomputer.vision._video import VideoInfo, iter_frames

__all__ = ["render_overlay"]


def _render_segment(
    info: VideoInfo,
    start_s: float,
    end_s: float,
    landmarks: dict[int, tuple[NDArray[np.float64], NDArray[np.float64]]],
    path: Path,
    encoder_threads: int | None = None,
    *,
    progress: ProgressTick,
) -> Path:
    with OverlayWriter(
        path, width_px=info.width_px, height_px=info.height_px, fps=info.fps, encoder_threads=encoder_threads
    ) as writer:
        for video_frame in iter_frames(info, start_s=start_s, end_s=end_s):
            pose = landmarks.get(video_frame.index)
            writer.write(
                video_frame.image,
                timestamp_s=video_frame.timestamp_s,
                frame_index=video_frame.index,
                landmarks_px=pose[0] if pose is not None else None,
                confidence=pose[1] if pose is not None else None,
            )
            progress(1)
    return path


def _join(segments: list[Path], path: Path) -> None:
    """Copy the packets of same-settings H.264 MP4 segments, in order, into one MP4 at ``path``."""
    with av.open(str(segments[0])) as first:
        template = first.streams.video[0]
        with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            stream = out.add_stream_from_template(template)
            for segment in segments:
                with av.open(str(segment)) as source:
                    source_stream = source.streams.video[0]
                    for packet in source.demux(source_stream):
                        if packet.dts is None:
                            continue
                        packet.stream = stream
                        out.mux(packet)


def render_overlay(
    info: VideoInfo,
    image: PoseSequence,
    path: Path,
    *,
    workers: int,
    min_segment_s: float,
    on_progress: ProgressTick,
) -> None:
    """Write ``path`` (H.264 MP4): every video frame with ``image``'s skeleton where it has one.

    At most ``workers`` segments, each at least ``min_segment_s`` long, are rendered in parallel.
    """
    landmarks = {
        int(index): (image.positions[row], image.confidence[row]) for row, index in enumerate(image.frame_indices)
    }
    n_segments = max(1, min(workers, int(info.duration_s // min_segment_s)))
    if n_segments == 1:
        _render_segment(info, 0.0, float("inf"), landmarks, path, progress=on_progress)
        return
    plans = plan_chunks(info.duration_s, n_chunks=n_segments, warmup_s=0.0)
    scratch = Path(tempfile.mkdtemp(prefix=".overlay-", dir=path.parent))
    try:
        arguments = []
        for plan in plans:
            start_s = max(plan.keep_from_s, 0.0)
            part = {i: pose for i, pose in landmarks.items() if _in_segment(image, i, start_s, plan.keep_until_s)}
            segment = scratch / f"{plan.index:03d}.mp4"
            arguments.append((info, start_s, plan.keep_until_s, part, segment, 1))
        segments = run_chunked(_render_segment, arguments, workers=workers, on_progress=on_progress)
        _join(segments, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _in_segment(image: PoseSequence, frame_index: int, start_s: float, end_s: float) -> bool:
    row = int(np.searchsorted(image.frame_indices, frame_index))
    timestamp = float(image.timestamps_s[row])
    return start_s <= timestamp < end_s
