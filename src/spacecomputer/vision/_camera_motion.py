"""Camera motion, from the background's motion between frames: static, panning or shaking.

:func:`_background_shift_px` measures how the background moved between two frames: corners outside
a mask (the caller masks the athlete out), tracked with pyramidal Lucas-Kanade and fitted with a
RANSAC similarity transform; the shift is the image centre's displacement. The caller turns the
shifts of successive intervals into velocities v_i, px/s, and :func:`_classify_camera_motion` names
the motion (every threshold is our own heuristic, tuned on the sample video and synthetic clips):

- ``static`` when the median speed is under :data:`_STATIC_SPEED_WIDTHS_PER_S` (1 %) of the frame
  width per second;
- otherwise ``panning`` when successive motions agree in direction (coherence Σ v_i·v_i+1 /
  Σ |v_i||v_i+1| ≥ :data:`_PANNING_COHERENCE` = 0.5: a consistent drift) and ``shaking`` when they
  do not (jitter with no consistent drift);
- ``unknown`` when no interval could be measured, or the camera moves and no two successive
  intervals could both be measured (too few background corners: a black or featureless frame).

Shake faster than the sampling rate aliases, but still reads as incoherent motion.
"""

from __future__ import annotations

import itertools
from enum import StrEnum

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["CameraMotion"]

_STATIC_SPEED_WIDTHS_PER_S = 0.01
_PANNING_COHERENCE = 0.5
_MIN_INLIERS = 8


class CameraMotion(StrEnum):
    """How the camera moved, from the background's motion between sampled frames."""

    STATIC = "static"
    PANNING = "panning"
    SHAKING = "shaking"
    UNKNOWN = "unknown"


def _background_shift_px(
    previous: NDArray[np.uint8], current: NDArray[np.uint8], mask: NDArray[np.uint8]
) -> NDArray[np.float64] | None:
    """Displacement (dx, dy) of the image centre from ``previous`` to ``current``, pixels of those images.

    Corners are found where ``mask`` is non-zero, tracked with pyramidal Lucas-Kanade and fitted with a
    RANSAC similarity transform; ``None`` when fewer than ``_MIN_INLIERS`` corners agree.
    """
    corners = cv2.goodFeaturesToTrack(previous, maxCorners=150, qualityLevel=0.01, minDistance=7, mask=mask)
    if corners is None or len(corners) < _MIN_INLIERS:
        return None
    tracked, status, _ = cv2.calcOpticalFlowPyrLK(
        previous, current, corners, np.empty_like(corners), winSize=(21, 21), maxLevel=3
    )
    found = status[:, 0] == 1
    if np.count_nonzero(found) < _MIN_INLIERS:
        return None
    transform, inliers = cv2.estimateAffinePartial2D(
        corners[found], tracked[found], method=cv2.RANSAC, ransacReprojThreshold=1.0
    )
    if transform is None or int(inliers.sum()) < _MIN_INLIERS:
        return None
    centre = np.array([previous.shape[1] / 2.0, previous.shape[0] / 2.0])
    shift: NDArray[np.float64] = transform[:, :2] @ centre + transform[:, 2] - centre
    return shift


def _classify_camera_motion(
    velocities_px_per_s: list[NDArray[np.float64] | None], *, static_speed_px_per_s: float
) -> tuple[CameraMotion, float | None, float | None, float | None]:
    """Classify background velocities (``None``: interval not measured); see the module docstring.

    Returns the motion, the median speed (px/s), the drift (magnitude of the mean velocity, px/s) and
    the coherence of successive measured intervals (``None`` where undefined).
    """
    measured = np.array([v for v in velocities_px_per_s if v is not None], dtype=np.float64).reshape(-1, 2)
    if len(measured) == 0:
        return CameraMotion.UNKNOWN, None, None, None
    speed = float(np.median(np.linalg.norm(measured, axis=1)))
    drift = float(np.linalg.norm(measured.mean(axis=0)))
    pairs = [(a, b) for a, b in itertools.pairwise(velocities_px_per_s) if a is not None and b is not None]
    norms = sum(float(np.linalg.norm(a) * np.linalg.norm(b)) for a, b in pairs)
    coherence = sum(float(a @ b) for a, b in pairs) / norms if norms > 0 else None
    if speed < static_speed_px_per_s:
        motion = CameraMotion.STATIC
    elif coherence is None:
        motion = CameraMotion.UNKNOWN
    else:
        motion = CameraMotion.PANNING if coherence >= _PANNING_COHERENCE else CameraMotion.SHAKING
    return motion, speed, drift, coherence
