"""`PoseSequence`: the one pose container every stage exchanges."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntFlag
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain._frames import CoordinateFrame
from spacecomputer.domain._pose_frame import PoseFrame
from spacecomputer.domain._skeleton import BLAZEPOSE_33, Skeleton
from spacecomputer.errors import InvalidPoseDataError

__all__ = ["PoseFlag", "PoseSequence"]


class PoseFlag(IntFlag):
    """Per-landmark, per-frame provenance bits stored in :attr:`PoseSequence.flags`."""

    NONE = 0
    INTERPOLATED = 1
    """Value filled by gap interpolation, not observed."""
    SWAP_CORRECTED = 2
    """Left and right were exchanged by the estimator in this frame and put back."""
    REACQUIRED = 4
    """The frame's pose came from re-acquiring the tracked athlete after an identity jump."""
    LONG_GAP = 8
    """Missing, inside a gap too long to interpolate."""
    UNRELIABLE_POSITION = 16
    """The body's global position (its translation through the scene) was not measured in this frame: the
    depth cue was missing or rejected for longer than the trajectory bridges (``vision/_trajectory.py``).
    Set on every landmark of the frame; speeds of the body are not reported from it."""


def _check(condition: bool, message: str, **details: Any) -> None:
    if not condition:
        raise InvalidPoseDataError(message, details=details)


@dataclass(frozen=True, eq=False)
class PoseSequence:
    """Landmark trajectories of one athlete: frames × joints × xyz, with time, confidence and provenance.

    Parameters
    ----------
    positions
        (T, J, 3) float64 positions in ``frame`` (unit ``frame.unit``); NaN where a landmark is missing.
    confidence
        (T, J) visibility/confidence in [0, 1]; 0 where missing.
    timestamps_s
        (T,) presentation time of each frame in seconds from the start of the video, strictly increasing
        (real timestamps: variable frame rate is kept).
    fps
        Nominal frame rate of the source, frames per second.
    frame
        Coordinate frame of ``positions``.
    skeleton
        Joint names and bones; ``J == skeleton.n_joints``.
    frame_indices
        (T,) index of each frame in the source video (0-based), strictly increasing.
    image_size_px
        (width, height) of the upright source frames, when known.
    flags
        (T, J) :class:`PoseFlag` bits; all zero when omitted.
    metadata
        JSON-serialisable provenance (source file, estimator, processing applied).

    Examples
    --------
    >>> import numpy as np
    >>> seq = PoseSequence(positions=np.zeros((2, 33, 3)), confidence=np.ones((2, 33)),
    ...                    timestamps_s=np.array([0.0, 0.04]), fps=25.0, frame=CoordinateFrame.CAMERA)
    >>> seq.n_frames, seq.units, seq.joint("left_knee").shape
    (2, 'm', (2, 3))

    """

    positions: NDArray[np.float64]
    confidence: NDArray[np.float64]
    timestamps_s: NDArray[np.float64]
    fps: float
    frame: CoordinateFrame
    skeleton: Skeleton = BLAZEPOSE_33
    frame_indices: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    image_size_px: tuple[int, int] | None = None
    flags: NDArray[np.uint8] = field(default_factory=lambda: np.empty((0, 0), dtype=np.uint8))
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        positions = np.array(self.positions, dtype=np.float64)
        n_joints = self.skeleton.n_joints
        _check(
            positions.ndim == 3 and positions.shape[1:] == (n_joints, 3),
            f"positions must have shape (frames, {n_joints}, 3); got {positions.shape}",
            shape=list(positions.shape),
        )
        n = positions.shape[0]
        _check(not np.isinf(positions).any(), "positions contain infinite values (use NaN for missing)")
        confidence = np.array(self.confidence, dtype=np.float64)
        _check(
            confidence.shape == (n, n_joints),
            f"confidence must have shape ({n}, {n_joints}); got {confidence.shape}",
        )
        _check(
            bool(np.all((confidence >= 0.0) & (confidence <= 1.0))),
            "confidence must lie in [0, 1] (no NaN)",
        )
        timestamps = np.array(self.timestamps_s, dtype=np.float64)
        _check(timestamps.shape == (n,), f"timestamps_s must have shape ({n},); got {timestamps.shape}")
        _check(bool(np.all(np.isfinite(timestamps))), "timestamps_s must be finite")
        _check(bool(np.all(np.diff(timestamps) > 0)), "timestamps_s must be strictly increasing")
        _check(bool(np.isfinite(self.fps) and self.fps > 0), f"fps must be positive; got {self.fps}")
        indices = np.array(self.frame_indices, dtype=np.int64)
        if indices.size == 0 and n > 0:
            indices = np.arange(n, dtype=np.int64)
        _check(indices.shape == (n,), f"frame_indices must have shape ({n},); got {indices.shape}")
        _check(bool(np.all(np.diff(indices) > 0)), "frame_indices must be strictly increasing")
        flags = np.array(self.flags, dtype=np.uint8)
        if flags.size == 0:
            flags = np.zeros((n, n_joints), dtype=np.uint8)
        _check(flags.shape == (n, n_joints), f"flags must have shape ({n}, {n_joints}); got {flags.shape}")
        if self.image_size_px is not None:
            width, height = self.image_size_px
            _check(width > 0 and height > 0, f"image_size_px must be positive; got {self.image_size_px}")
        # Arrays are copied above and locked here: a sequence never changes under its holder's feet.
        for name, value in (
            ("positions", positions),
            ("confidence", confidence),
            ("timestamps_s", timestamps),
            ("frame_indices", indices),
            ("flags", flags),
        ):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "frame", CoordinateFrame(self.frame))
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "metadata", dict(self.metadata))

    # -- shape and access ------------------------------------------------------------------------

    @property
    def n_frames(self) -> int:
        """Number of frames T."""
        return int(self.positions.shape[0])

    @property
    def n_joints(self) -> int:
        """Number of joints J."""
        return int(self.positions.shape[1])

    @property
    def units(self) -> str:
        """Unit of :attr:`positions` (``"m"``, ``"px"`` or ``"ratio"``)."""
        return self.frame.unit

    @property
    def duration_s(self) -> float:
        """Time from the first to the last frame, seconds (0 for fewer than two frames)."""
        return float(self.timestamps_s[-1] - self.timestamps_s[0]) if self.n_frames > 1 else 0.0

    @property
    def present(self) -> NDArray[np.bool_]:
        """(T, J) mask of landmarks with a position (not NaN)."""
        return np.asarray(~np.isnan(self.positions).any(axis=2))

    @property
    def detected(self) -> NDArray[np.bool_]:
        """(T,) mask of frames with at least one landmark."""
        return np.asarray(self.present.any(axis=1))

    def __len__(self) -> int:
        return self.n_frames

    def require_metric(self, purpose: str) -> None:
        """Raise :class:`InvalidPoseDataError` naming ``purpose`` (plural: "kinematics need …") unless in metres."""
        if not self.frame.is_metric:
            raise InvalidPoseDataError(
                f"{purpose} need a metric pose sequence (hip_centred, camera or world); got frame "
                f"{self.frame.value} in {self.units}",
                details={"frame": self.frame.value},
            )

    def joint(self, name: str) -> NDArray[np.float64]:
        """Return the (T, 3) trajectory of the joint called ``name``."""
        return self.positions[:, self.skeleton.index(name), :]

    def replace(self, **changes: Any) -> PoseSequence:
        """Return a copy with some fields replaced (validated again)."""
        return dataclasses.replace(self, **changes)

    def __getitem__(self, frames: slice | NDArray[np.bool_] | NDArray[np.int64] | Sequence[int]) -> PoseSequence:
        """Select frames (a slice, a boolean mask or increasing indices) into a new sequence."""
        if isinstance(frames, slice):
            selector: Any = frames
        else:
            selector = np.asarray(frames)
        return self.replace(
            positions=self.positions[selector],
            confidence=self.confidence[selector],
            timestamps_s=self.timestamps_s[selector],
            frame_indices=self.frame_indices[selector],
            flags=self.flags[selector],
        )

    def between(self, start_s: float, end_s: float) -> PoseSequence:
        """Return the frames with ``start_s <= timestamp < end_s``."""
        keep = (self.timestamps_s >= start_s) & (self.timestamps_s < end_s)
        return self[keep]

    def resample(self, *, fps_hz: float) -> PoseSequence:
        """Linearly resample onto a uniform time grid at ``fps_hz``, from the first to the last timestamp.

        A resampled value is NaN when either neighbouring source sample is missing; confidence is
        interpolated linearly; flags are taken from the nearest source frame. ``frame_indices`` of the
        result count the new grid (0, 1, …) and the source indices go to ``metadata``.
        """
        if not (np.isfinite(fps_hz) and fps_hz > 0):
            raise InvalidPoseDataError(f"resample needs a positive fps_hz; got {fps_hz}")
        if self.n_frames < 2:
            return self.replace(fps=fps_hz)
        t0 = float(self.timestamps_s[0])
        n_new = int(np.floor(self.duration_s * fps_hz + 1e-9)) + 1
        grid = t0 + np.arange(n_new) / fps_hz
        right = np.clip(np.searchsorted(self.timestamps_s, grid, side="left"), 1, self.n_frames - 1)
        left = right - 1
        t_left, t_right = self.timestamps_s[left], self.timestamps_s[right]
        weight = np.clip((grid - t_left) / (t_right - t_left), 0.0, 1.0)
        w3 = weight[:, None, None]
        positions = (1.0 - w3) * self.positions[left] + w3 * self.positions[right]
        exact_left = weight == 0.0
        positions[exact_left] = self.positions[left[exact_left]]
        exact_right = weight == 1.0
        positions[exact_right] = self.positions[right[exact_right]]
        w2 = weight[:, None]
        confidence = (1.0 - w2) * self.confidence[left] + w2 * self.confidence[right]
        confidence[np.isnan(positions).any(axis=2)] = 0.0
        nearest = np.where(weight < 0.5, left, right)
        return self.replace(
            positions=positions,
            confidence=np.clip(confidence, 0.0, 1.0),
            timestamps_s=grid,
            fps=fps_hz,
            frame_indices=np.arange(n_new, dtype=np.int64),
            flags=self.flags[nearest],
            metadata={**self.metadata, "resampled_from_fps": self.fps},
        )

    # -- adapters --------------------------------------------------------------------------------

    @classmethod
    def from_pose_frames(
        cls,
        frames: Sequence[PoseFrame | None],
        *,
        timestamps_s: Sequence[float] | NDArray[np.float64],
        frame_indices: Sequence[int] | NDArray[np.int64],
        fps: float,
        frame: CoordinateFrame,
        image_size_px: tuple[int, int] | None = None,
        skeleton: Skeleton = BLAZEPOSE_33,
        metadata: Mapping[str, Any] | None = None,
    ) -> PoseSequence:
        """Stack per-frame estimator output (``None`` = nobody found) into a sequence.

        ``frame`` picks which landmarks are used: ``IMAGE`` (pixels) or ``HIP_CENTRED`` (world metres).
        """
        if frame not in (CoordinateFrame.IMAGE, CoordinateFrame.HIP_CENTRED):
            raise InvalidPoseDataError(f"pose frames carry image or hip_centred landmarks, not {frame.value}")
        n, n_joints = len(frames), skeleton.n_joints
        positions = np.full((n, n_joints, 3), np.nan)
        confidence = np.zeros((n, n_joints))
        for i, pose in enumerate(frames):
            if pose is None:
                continue
            positions[i] = pose.image_px if frame is CoordinateFrame.IMAGE else pose.world_m
            confidence[i] = pose.visibility
        return cls(
            positions=positions,
            confidence=confidence,
            timestamps_s=np.asarray(timestamps_s, dtype=np.float64),
            fps=fps,
            frame=frame,
            skeleton=skeleton,
            frame_indices=np.asarray(frame_indices, dtype=np.int64),
            image_size_px=image_size_px,
            metadata=metadata or {},
        )

    @classmethod
    def from_mediapipe(
        cls,
        results: Sequence[Any],
        *,
        timestamps_s: Sequence[float] | NDArray[np.float64],
        fps: float,
        image_size_px: tuple[int, int],
        frame: CoordinateFrame = CoordinateFrame.IMAGE,
    ) -> PoseSequence:
        """Build a sequence from MediaPipe ``Pose.process`` results, one per frame (in frame order)."""
        width, height = image_size_px
        frames = [PoseFrame.from_mediapipe(r, width_px=width, height_px=height) for r in results]
        return cls.from_pose_frames(
            frames,
            timestamps_s=timestamps_s,
            frame_indices=np.arange(len(frames)),
            fps=fps,
            frame=frame,
            image_size_px=image_size_px,
            metadata={"estimator": "mediapipe_blazepose"},
        )

    @classmethod
    def from_elite_json(cls, source: Path | str | Mapping[str, Any]) -> PoseSequence:
        """Read a clip of the elite reference library (format: ``data/README.md``)."""
        from spacecomputer.domain._pose_io import read_elite_json

        return read_elite_json(source)

    def to_elite_json(self) -> dict[str, Any]:
        """Write the elite reference format (normalised image coordinates only)."""
        from spacecomputer.domain._pose_io import write_elite_json

        return write_elite_json(self)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> PoseSequence:
        """Read the document written by :meth:`to_json`."""
        from spacecomputer.domain._pose_io import read_json

        return read_json(document)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-serialisable document (missing values as ``null``)."""
        from spacecomputer.domain._pose_io import write_json

        return write_json(self)

    @classmethod
    def from_parquet(cls, path: Path | str) -> PoseSequence:
        """Read the long-format Parquet file written by :meth:`to_parquet`."""
        from spacecomputer.domain._pose_io import read_parquet

        return read_parquet(Path(path))

    def to_parquet(self, path: Path | str) -> None:
        """Write one row per (frame, joint) with the sequence's metadata in the file schema."""
        from spacecomputer.domain._pose_io import write_parquet

        write_parquet(self, Path(path))

    def to_csv(self, path: Path | str) -> None:
        """Write one row per frame: time, then x/y/z/confidence per joint (unit in each column name)."""
        from spacecomputer.domain._pose_io import write_csv

        write_csv(self, Path(path))
