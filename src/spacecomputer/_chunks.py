"""Split a video into overlapping time chunks, estimate poses per chunk, stitch them back.

BlazePose in tracking mode carries a region of interest from frame to frame, so a chunk that starts
cold differs from a continuous run for its first frames. Each chunk therefore starts ``warmup_s``
before the part it owns and throws the warm-up frames away; tracking and smoothing run afterwards on
the stitched whole, so they see no seams.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain import PoseFrame

__all__ = ["ChunkPlan", "EstimatedFrames", "plan_chunks", "stitch"]


@dataclass(frozen=True)
class ChunkPlan:
    """One chunk: decode from ``decode_from_s``, keep frames with ``keep_from_s <= t < keep_until_s``."""

    index: int
    decode_from_s: float
    keep_from_s: float
    keep_until_s: float

    def owned(self, frames: EstimatedFrames) -> EstimatedFrames:
        """Return the frames this chunk keeps (its warm-up dropped)."""
        return frames.selected(lambda t: self.keep_from_s <= t < self.keep_until_s)


def plan_chunks(duration_s: float, *, n_chunks: int, warmup_s: float) -> list[ChunkPlan]:
    """Cut ``[0, duration_s)`` into ``n_chunks`` equal parts, each decoded from ``warmup_s`` earlier.

    The last chunk keeps everything to the end of the video (``keep_until_s`` is infinite), so frames
    whose timestamps exceed the container's declared duration are not lost.

    Examples
    --------
    >>> [(c.decode_from_s, c.keep_from_s) for c in plan_chunks(10.0, n_chunks=2, warmup_s=1.0)]
    [(0.0, 0.0), (4.0, 5.0)]

    """
    n = max(1, n_chunks)
    bounds = [duration_s * i / n for i in range(n)] + [math.inf]
    return [
        ChunkPlan(
            index=i,
            decode_from_s=max(0.0, bounds[i] - warmup_s) if i else 0.0,
            keep_from_s=bounds[i] if i else -math.inf,
            keep_until_s=bounds[i + 1],
        )
        for i in range(n)
    ]


@dataclass
class EstimatedFrames:
    """Per-frame output of pose estimation over part or all of a video, in decode order."""

    frame_indices: list[int] = field(default_factory=list)
    timestamps_s: list[float] = field(default_factory=list)
    poses: list[PoseFrame | None] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    def append(self, frame_index: int, timestamp_s: float, pose: PoseFrame | None, status: str) -> None:
        """Record one frame."""
        self.frame_indices.append(frame_index)
        self.timestamps_s.append(timestamp_s)
        self.poses.append(pose)
        self.statuses.append(status)

    def __len__(self) -> int:
        return len(self.frame_indices)

    def selected(self, keep: Callable[[float], bool]) -> EstimatedFrames:
        """Return the frames whose timestamp satisfies ``keep``."""
        out = EstimatedFrames()
        for i, t in enumerate(self.timestamps_s):
            if keep(t):
                out.append(self.frame_indices[i], t, self.poses[i], self.statuses[i])
        return out

    @property
    def timestamps_array(self) -> NDArray[np.float64]:
        """(T,) timestamps, seconds."""
        return np.asarray(self.timestamps_s, dtype=np.float64)


def stitch(parts: list[EstimatedFrames]) -> EstimatedFrames:
    """Concatenate chunk results in time order, dropping any frame index already taken."""
    out = EstimatedFrames()
    last = -1
    for part in parts:
        for i, index in enumerate(part.frame_indices):
            if index > last:
                out.append(index, part.timestamps_s[i], part.poses[i], part.statuses[i])
                last = index
    return out
