"""The synthetic standing athlete the biomechanics tests build their motions from.

Scene: x forward, y to the athlete's left, z up; metres. The pose is given for the left side and mirrored in y,
so the whole-body centre of mass lies at y = 0 whatever the segment parameters. Feet flat on z = 0, heel 5 cm
behind and toe 15 cm ahead of the ankle; arms hanging.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain import BLAZEPOSE_33, CoordinateFrame, PoseSequence

UP = np.array([0.0, 0.0, 1.0])
LEFT_SIDE_POINTS: Mapping[str, tuple[float, float, float]] = {
    "eye_inner": (0.09, 0.02, 1.66), "eye": (0.09, 0.035, 1.66), "eye_outer": (0.085, 0.05, 1.66),
    "ear": (0.0, 0.08, 1.64), "mouth": (0.09, 0.025, 1.58), "shoulder": (0.0, 0.18, 1.45),
    "elbow": (0.0, 0.18, 1.17), "wrist": (0.0, 0.18, 0.92), "pinky": (-0.01, 0.19, 0.84),
    "index": (0.02, 0.17, 0.84), "thumb": (0.03, 0.16, 0.87), "hip": (0.0, 0.10, 0.95),
    "knee": (0.02, 0.10, 0.52), "ankle": (0.0, 0.10, 0.09), "heel": (-0.05, 0.10, 0.0),
    "foot_index": (0.15, 0.10, 0.0),
}  # fmt: skip
NOSE = (0.1, 0.0, 1.62)


def pose_from_left_side(left_side: Mapping[str, tuple[float, float, float]]) -> NDArray[np.float64]:
    """(33, 3) pose: each left-side point as given, its right twin mirrored in y, the nose on the midline."""
    points = np.zeros((33, 3))
    for name, (x, y, z) in left_side.items():
        left, right = ("mouth_left", "mouth_right") if name == "mouth" else (f"left_{name}", f"right_{name}")
        points[BLAZEPOSE_33.index(left)] = (x, y, z)
        points[BLAZEPOSE_33.index(right)] = (x, -y, z)
    points[BLAZEPOSE_33.index("nose")] = NOSE
    return points


def standing_pose() -> NDArray[np.float64]:
    """(33, 3) the upright template of the module docstring."""
    return pose_from_left_side(LEFT_SIDE_POINTS)


def sequence_of(
    positions: NDArray[np.float64], fps: float, *, frame: CoordinateFrame = CoordinateFrame.WORLD
) -> PoseSequence:
    """A fully visible sequence of (T, 33, 3) positions at ``fps``, time starting at 0."""
    n = positions.shape[0]
    return PoseSequence(
        positions=positions, confidence=np.ones((n, 33)), timestamps_s=np.arange(n) / fps, fps=fps, frame=frame
    )
