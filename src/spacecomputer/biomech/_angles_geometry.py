"""Landmark geometry behind the joint and segment angles: vector helpers, segment frames, plane decompositions.

Everything here works on plain (T, 3) arrays in one frame with an explicit unit ``up`` vector, so no
axis convention is assumed. :class:`LandmarkPoints` builds each segment frame once for all the angles that
share it; the angle definitions that use these frames are in :mod:`spacecomputer.biomech._angles`.

Anatomical frames follow the axis naming of Wu et al. (2002), *ISB recommendation on definitions of joint
coordinate system of various joints for the reporting of human joint motion — part I: ankle, hip, and
spine*, J Biomech 35(4):543–548: X anterior, Y superior (cranial), Z to the right. Their pelvis uses the
anterior and posterior superior iliac spines and their femur the epicondyles (checked in the transcription
RWTHmediTEC/FemoralCoordinateSystem, ``src/definitions/Wu2002.m``); BlazePose has neither, so every frame
below is our own landmark approximation.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping

import numpy as np
from numpy.typing import NDArray

__all__ = ["CONDITIONING_LIMIT_DEG", "LandmarkPoints", "Points"]

Points = Mapping[str, NDArray[np.float64]]
"""Landmark name → (T, 3) positions; ``mid_hip`` and ``mid_shoulder`` are added to the BlazePose names."""
_Axes = tuple[NDArray[np.float64], ...]


class LandmarkPoints(dict[str, NDArray[np.float64]]):
    """:data:`Points` that remember what is derived from them: missing-frame masks and segment frames.

    Angles that share a frame (the four hip angles share the pelvis, every leg segment the hips' heading)
    then build it once. Any other mapping works too, computing everything afresh.
    """

    def __init__(self, points: Points) -> None:
        super().__init__(points)
        self._missing: dict[str, NDArray[np.bool_]] = {}
        self._frames: dict[Hashable, _Axes] = {}

    def missing(self, name: str) -> NDArray[np.bool_]:
        """(T,) mask of the frames where landmark ``name`` has a NaN coordinate."""
        if name not in self._missing:
            self._missing[name] = np.asarray(np.isnan(self[name]).any(axis=1), dtype=np.bool_)
        return self._missing[name]

    def frame(self, key: Hashable, build: Callable[[], _Axes]) -> _Axes:
        """Return the frame called ``key``, built by ``build()`` on first use."""
        if key not in self._frames:
            self._frames[key] = build()
        return self._frames[key]


def _memoised(p: Points, key: Hashable, build: Callable[[], _Axes]) -> _Axes:
    return p.frame(key, build) if isinstance(p, LandmarkPoints) else build()


CONDITIONING_LIMIT_DEG = 10.0
"""An angle whose reference direction comes within this many degrees of its singular direction is NaN.

Our own heuristic: there a landmark error ``e`` on a segment of length ``L`` turns the angle by about
``e / (L sin 10°)`` rad, 17° for 1.6 cm on 30 cm (1.6 cm: the median landmark displacement of the rigid-segment
step on the sample clip), which is no longer a measurement.
"""

_MIN_SIN = float(np.sin(np.radians(CONDITIONING_LIMIT_DEG)))
_TINY_M = 1e-12
"""Shorter vectors (coincident landmarks) have no direction."""


# --- vector helpers ---------------------------------------------------------------------------------------------


def _dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.einsum("...i,...i->...", a, b), dtype=np.float64)


def _norm(a: NDArray[np.float64]) -> NDArray[np.float64]:
    # Written out: a reduction over a length-3 axis (numpy.linalg.norm) is several times slower.
    return np.asarray(np.sqrt(a[..., 0] * a[..., 0] + a[..., 1] * a[..., 1] + a[..., 2] * a[..., 2]), dtype=np.float64)


def _cross(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Cross product along the last axis (what ``numpy.cross`` computes, without its overhead)."""
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[..., 0] = a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1]
    out[..., 1] = a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2]
    out[..., 2] = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return out


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    length = _norm(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = v / length[..., None]
    out[~(length > _TINY_M)] = np.nan
    return out


def _perpendicular_unit(v: NDArray[np.float64], axis: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the unit direction of the part of ``v`` perpendicular to the unit ``axis``; NaN within 10° of it."""
    perpendicular = v - _dot(v, axis)[..., None] * axis
    length = _norm(perpendicular)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = perpendicular / length[..., None]
    out[~((length > _TINY_M) & (length >= _MIN_SIN * _norm(v)))] = np.nan
    return out


def _angle_between_deg(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angle between two vectors, 0–180°; ``atan2(|a×b|, a·b)`` stays accurate near 0° and 180°."""
    angle = np.degrees(np.arctan2(_norm(_cross(a, b)), _dot(a, b)))
    angle[~((_norm(a) > _TINY_M) & (_norm(b) > _TINY_M))] = np.nan
    return angle


def _plane_angles_deg(
    vector: NDArray[np.float64],
    zero: NDArray[np.float64],
    positive: NDArray[np.float64],
    normal: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """In-plane and out-of-plane angles of ``vector`` against three orthonormal axes, degrees.

    The in-plane angle is ``atan2(v·positive, v·zero)``: the rotation about ``normal`` that carries ``zero``
    onto the vector's projection, positive towards ``positive``; NaN within 10° of ``normal`` (there the
    projection has no direction). The out-of-plane angle is the vector's elevation out of that plane,
    positive towards ``normal``, ±90°. Together they are the first two angles of a Cardan sequence whose
    first axis is ``normal``; they depend only on the vector, not on any rotation about it.
    """
    v = _unit(vector)
    x, y, z = _dot(v, zero), _dot(v, positive), _dot(v, normal)
    in_plane = np.hypot(x, y)
    angle = np.degrees(np.arctan2(y, x))
    with np.errstate(invalid="ignore"):
        angle[~(in_plane >= _MIN_SIN)] = np.nan
    return angle, np.degrees(np.arctan2(z, in_plane))


# --- segment frames ---------------------------------------------------------------------------------------------


def _pelvis_axes(p: Points) -> _Axes:
    """(anterior, superior, right): right = left→right hip; superior = the trunk axis made perpendicular."""

    def build() -> _Axes:
        right = _unit(p["right_hip"] - p["left_hip"])
        superior = _perpendicular_unit(p["mid_shoulder"] - p["mid_hip"], right)
        return _cross(superior, right), superior, right

    return _memoised(p, "pelvis", build)


def _thorax_axes(p: Points) -> _Axes:
    """(anterior, superior, right): superior = mid-hip→mid-shoulder; right = the shoulder line made perpendicular."""

    def build() -> _Axes:
        superior = _unit(p["mid_shoulder"] - p["mid_hip"])
        right = _perpendicular_unit(p["right_shoulder"] - p["left_shoulder"], superior)
        return _cross(superior, right), superior, right

    return _memoised(p, "thorax", build)


def _heading_axes(p: Points, line: tuple[str, str], up: NDArray[np.float64]) -> _Axes:
    """(forward, right) horizontal unit vectors of the body: right = the horizontal part of the left→right line."""

    def build() -> _Axes:
        right = _perpendicular_unit(p[line[1]] - p[line[0]], up)
        return _cross(up, right), right

    return _memoised(p, ("heading", line, up.tobytes()), build)


def _flexion_range_deg(angle: NDArray[np.float64]) -> NDArray[np.float64]:
    """Map a flexion angle into [-90°, 270°): the cut sits at 90° of extension, where neither hip nor shoulder goes.

    Joint angles are bounded by anatomy, so they are not unwrapped in time (a noisy frame must not add a turn).
    """
    return np.asarray(np.mod(angle + 90.0, 360.0) - 90.0, dtype=np.float64)
