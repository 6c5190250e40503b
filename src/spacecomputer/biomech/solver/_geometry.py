"""Batch vector and rotation helpers of the skeleton: every array has a leading batch axis ``N``.

Frames are triples of (N, 3) unit vectors ``(anterior, superior, right)``, right-handed in the engine's sense
(``anterior = superior × right``, :mod:`spacecomputer.biomech._angles_geometry`). Angles are in radians.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Frame",
    "ball_joint_angles",
    "ball_joint_axes",
    "combine",
    "cross",
    "dot",
    "flexion_range",
    "rotvec_matrices",
    "unit",
]

Vec = NDArray[np.float64]
Frame = tuple[Vec, Vec, Vec]
"""(anterior, superior, right), each (N, 3)."""


def dot(a: Vec, b: Vec) -> Vec:
    """Row-wise dot product of (N, 3) arrays, (N,)."""
    return np.asarray(a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2], dtype=np.float64)


def cross(a: Vec, b: Vec) -> Vec:
    """Row-wise cross product of (N, 3) arrays."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[:, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    out[:, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    out[:, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return out


def unit(v: Vec) -> Vec:
    """Row-wise unit vectors; NaN rows for zero-length input."""
    length = np.sqrt(dot(v, v))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(v / length[:, None], dtype=np.float64)


def combine(c1: Vec, v1: Vec, c2: Vec, v2: Vec) -> Vec:
    """``c1 v1 + c2 v2`` with (N, 1) coefficients and (N, 3) vectors."""
    out: Vec = c1 * v1 + c2 * v2
    return out


def flexion_range(angle_rad: Vec) -> Vec:
    """Map flexion angles into [−π/2, 3π/2), the engine's [−90°, 270°) (``_flexion_range_deg``)."""
    return np.asarray(np.mod(angle_rad + 0.5 * np.pi, 2.0 * np.pi) - 0.5 * np.pi, dtype=np.float64)


def rotvec_matrices(rotvec: Vec) -> NDArray[np.float64]:
    """Rotation matrices (N, 3, 3) of rotation vectors (N, 3), rad (Rodrigues, series-safe near zero).

    Examples
    --------
    >>> np.round(rotvec_matrices(np.array([[0.0, 0.0, np.pi / 2]]))[0] @ [1.0, 0.0, 0.0], 12)
    array([0., 1., 0.])

    """
    theta2 = dot(rotvec, rotvec)
    theta = np.sqrt(theta2)
    small = theta < 1e-4
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 1.0 - theta2 / 6.0, np.sin(safe) / safe)
    b = np.where(small, 0.5 - theta2 / 24.0, (1.0 - np.cos(safe)) / (safe * safe))
    x, y, z = rotvec[:, 0], rotvec[:, 1], rotvec[:, 2]
    w = np.zeros((rotvec.shape[0], 3, 3))
    w[:, 0, 1], w[:, 0, 2], w[:, 1, 0], w[:, 1, 2], w[:, 2, 0], w[:, 2, 1] = -z, y, z, -x, -y, x
    return np.asarray(np.eye(3) + a[:, None, None] * w + b[:, None, None] * (w @ w), dtype=np.float64)


def ball_joint_axes(frame: Frame, side_sign: float, flexion: Vec, lateral: Vec, rotation: Vec) -> Frame:
    """Orient the distal segment of a ball joint: (anterior, distal long axis, lateral) from three (N, 1) angles, rad.

    Z-X-Y Cardan angles in the proximal ``frame`` (the engine's hip and shoulder decomposition): ``flexion``
    turns the downward axis (−superior) towards anterior about the side's lateral axis (``side_sign`` × right:
    +1 right, −1 left); ``lateral`` then tilts it towards that lateral axis (abduction); ``rotation`` turns the
    segment about its own long axis, its front towards the midline (internal rotation). Returns the segment's
    anterior axis, its unit long axis pointing distally, and its lateral axis.
    """
    anterior, superior, right = frame
    lateral_axis = side_sign * right
    cf, sf = np.cos(flexion), np.sin(flexion)
    down = combine(-cf, superior, sf, anterior)
    front = combine(cf, anterior, sf, superior)
    cl, sl = np.cos(lateral), np.sin(lateral)
    long_axis = combine(cl, down, sl, lateral_axis)
    side = combine(cl, lateral_axis, -sl, down)
    cr, sr = np.cos(rotation), np.sin(rotation)
    return combine(cr, front, -sr, side), long_axis, combine(cr, side, sr, front)


def ball_joint_angles(frame: Frame, side_sign: float, long_axis: Vec, front: Vec | None) -> tuple[Vec, Vec, Vec]:
    """Invert :func:`ball_joint_axes`: (flexion, lateral, rotation), rad, of a segment in ``frame``.

    ``long_axis`` is the segment's distal direction and ``front`` its anterior axis (any vector with a part
    perpendicular to the long axis); rotation is 0 where ``front`` is ``None`` or NaN. Flexion is mapped into
    the engine's [−π/2, 3π/2).
    """
    anterior, superior, right = frame
    lateral_axis = side_sign * right
    d = unit(long_axis)
    along, up = dot(d, anterior), dot(d, superior)
    flexion = flexion_range(np.arctan2(along, -up))
    lateral = np.arctan2(dot(d, lateral_axis), np.hypot(along, up))
    if front is None:
        return flexion, lateral, np.zeros_like(flexion)
    cf, sf, cl, sl = (
        np.cos(flexion)[:, None],
        np.sin(flexion)[:, None],
        np.cos(lateral)[:, None],
        np.sin(lateral)[:, None],
    )
    down = combine(-cf, superior, sf, anterior)
    front0 = combine(cf, anterior, sf, superior)
    side0 = combine(cl, lateral_axis, -sl, down)
    rotation = np.arctan2(-dot(front, side0), dot(front, front0))
    return flexion, lateral, np.where(np.isfinite(rotation), rotation, 0.0)
