"""Synthetic motions with known physics, for the kinetics and energy tests.

The scene: x forward, y to the athlete's left, z up (right-handed), metres. The standing template is exactly
symmetric and upright: every limb segment vertical, the feet flat on z = 0 (heel 5 cm behind, toe 15 cm in
front of the ankle), the hand's index and pinky points placed either side of the forearm line, so that the
straight arm is one rigid line from the shoulder to the knuckles. ``transform_scene`` rotates a whole scene
to check that no axis is assumed (for instance into an OpenCV camera frame, whose up is (0, -1, 0)).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech._events import FootContacts
from spacecomputer.biomech._movement_metrics import STANDARD_GRAVITY_M_S2
from spacecomputer.domain import BLAZEPOSE_33, PoseSequence
from tests.biomech.scene import pose_from_left_side, sequence_of

G = STANDARD_GRAVITY_M_S2
UP = np.array([0.0, 0.0, 1.0])
RIGHT = np.array([0.0, -1.0, 0.0])
"""The athlete's right: a positive rotation about it turns a hanging limb forward (flexion)."""
_LEFT = {
    "eye_inner": (0.09, 0.02, 1.66), "eye": (0.09, 0.035, 1.66), "eye_outer": (0.085, 0.05, 1.66),
    "ear": (0.0, 0.08, 1.64), "mouth": (0.09, 0.025, 1.58), "shoulder": (0.0, 0.18, 1.45),
    "elbow": (0.0, 0.18, 1.17), "wrist": (0.0, 0.18, 0.92), "pinky": (0.0, 0.20, 0.84),
    "index": (0.0, 0.16, 0.84), "thumb": (0.02, 0.16, 0.87), "hip": (0.0, 0.10, 0.95),
    "knee": (0.0, 0.10, 0.52), "ankle": (0.0, 0.10, 0.09), "heel": (-0.05, 0.10, 0.0),
    "foot_index": (0.15, 0.10, 0.0),
}  # fmt: skip
ARM = ("elbow", "wrist", "pinky", "index", "thumb")
"""What turns with the shoulder."""
ABOVE_ANKLES = tuple(n for n in BLAZEPOSE_33.joint_names if not n.endswith(("heel", "foot_index")))


def index(name: str) -> int:
    return BLAZEPOSE_33.index(name)


def standing_pose() -> NDArray[np.float64]:
    """(33, 3) upright template (see the module docstring)."""
    return pose_from_left_side(_LEFT)


def rotated(
    points: NDArray[np.float64], names: tuple[str, ...], pivot: NDArray[np.float64], rotvec_rad: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Rotate the named landmarks of one (33, 3) pose about ``pivot`` (right-hand rule about ``rotvec_rad``)."""
    out = points.copy()
    rows = [index(n) for n in names]
    out[rows] = pivot + Rotation.from_rotvec(rotvec_rad).apply(points[rows] - pivot)
    return out


def leaning_pose(lean_rad: float) -> NDArray[np.float64]:
    """Rigid forward lean about the line through the ankles; the feet stay flat on the ground."""
    pose = standing_pose()
    pivot = pose[index("left_ankle")] * np.array([1.0, 0.0, 1.0])
    return rotated(pose, ABOVE_ANKLES, pivot, -lean_rad * RIGHT)


def still(pose: NDArray[np.float64], n: int, fps: float = 100.0) -> PoseSequence:
    return sequence_of(np.repeat(pose[None], n, axis=0), fps)


def contacts_of(
    in_contact: NDArray[np.bool_], *, fps: float, known: NDArray[np.bool_] | None = None, ground_m: float = 0.0
) -> FootContacts:
    """Hand-made foot states (T, 2), so that a test does not depend on the contact detector's thresholds."""
    n = in_contact.shape[0]
    return FootContacts(
        in_contact=in_contact,
        known=np.ones((n, 2), dtype=bool) if known is None else known,
        ground_level_m=np.full(n, ground_m),
        timestamps_s=np.arange(n) / fps,
        events=(),
        unavailable_reason=None,
    )


def projectile(
    n: int, fps: float, *, height_m: float = 3.0, vertical_m_s: float = 2.0, forward_m_s: float = 1.5, g: float = G
) -> NDArray[np.float64]:
    """(T, 33, 3): the rigid template translating on a parabola with acceleration ``-g`` along z."""
    t = np.arange(n) / fps
    shift = np.stack([forward_m_s * t, np.zeros(n), height_m + vertical_m_s * t - 0.5 * g * t**2], axis=1)
    return standing_pose()[None] + shift[:, None, :]


def swinging_arm(
    theta_rad: Callable[[NDArray[np.float64]], NDArray[np.float64]], n: int, fps: float, *, side: str = "left"
) -> NDArray[np.float64]:
    """(T, 33, 3): the body still, one straight arm turned forward by ``theta_rad(t)`` about its shoulder."""
    pose = standing_pose()
    names = tuple(f"{side}_{part}" for part in ARM)
    pivot = pose[index(f"{side}_shoulder")]
    t = np.arange(n) / fps
    return np.stack([rotated(pose, names, pivot, angle * RIGHT) for angle in theta_rad(t)])


def spinning(
    pose: NDArray[np.float64], n: int, fps: float, *, omega_rad_s: float, axis_point_m: NDArray[np.float64]
) -> NDArray[np.float64]:
    """(T, 33, 3): a rigid (33, 3) pose turning about the vertical line through ``axis_point_m`` at ``omega``."""
    t = np.arange(n) / fps
    return np.stack([axis_point_m + Rotation.from_rotvec(w * UP).apply(pose - axis_point_m) for w in omega_rad_s * t])


def transform_scene(positions: NDArray[np.float64], rotation: Rotation) -> NDArray[np.float64]:
    """Rotate every landmark of a (T, 33, 3) scene about the origin (a change of the sequence's frame)."""
    return np.asarray(rotation.apply(positions.reshape(-1, 3)).reshape(positions.shape), dtype=np.float64)


CAMERA_FROM_WORLD = Rotation.from_matrix(np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]))
"""World (x forward, y left, z up) to an OpenCV camera looking forward: x right, y down, z forward."""
