"""End-effector speed and segment angular speeds of a strike or throw, the signals that sequencing is read from.

These are steps 1 and 2 of the method of :mod:`~spacecomputer.biomech._sequencing`, which finds the peaks and their
order (and re-exports everything public here).

Method
------
1. *End effector* of a side: the **hand** point (mean of ``wrist``, ``index`` and ``pinky``; in frames where
   the index or pinky is missing, the wrist's own speed is used instead, so no jump between the two point
   definitions enters a derivative) or the **foot** point (``foot_index``). Its speed (m/s) is the norm of the
   central-difference velocity on the real timestamps (:func:`~spacecomputer.biomech._kinematics.linear_velocity_m_s`),
   in the sequence's frame.
2. *Segment angular speed* (deg/s), from direction vectors: per frame interval, the angle between a segment's
   unit direction vectors in the two frames (``2·arcsin(|u₁ − u₀| / 2)``, exact for any rotation below 180°
   per frame); the speed at a frame is the sum of the angles of the intervals on both sides over the time
   they span (one-sided at the ends of each NaN-free run). It is the rate at which the segment's long axis
   turns in space (the absolute, not the joint-relative, angular speed); rotation *about* the long axis is
   not seen by the landmarks and is not included. Segments (``{side}`` is the analysed side):

   ==============  ===============================================================================
   segment         direction vector
   ==============  ===============================================================================
   ``pelvis``      left→right hip line projected on the horizontal plane (rotation about ``up``)
   ``thorax``      left→right shoulder line projected on the horizontal plane (rotation about ``up``)
   ``upper_arm``   ``{side}_shoulder`` → ``{side}_elbow``
   ``forearm``     ``{side}_elbow`` → ``{side}_wrist``
   ``hand``        ``{side}_wrist`` → mean of ``{side}_index`` and ``{side}_pinky``
   ``thigh``       ``{side}_hip`` → ``{side}_knee``
   ``shank``       ``{side}_knee`` → ``{side}_ankle``
   ``foot``        ``{side}_heel`` → ``{side}_foot_index``
   ==============  ===============================================================================

   The pelvis and thorax directions are NaN where the line's horizontal part is shorter than
   ``sin(CONDITIONING_LIMIT_DEG)`` of its length (the athlete lying down: no heading to speak of).

The chains are :data:`ARM_CHAIN` (pelvis, thorax, upper arm, forearm, hand) for a hand and :data:`LEG_CHAIN`
(pelvis, thigh, shank, foot) for a kick, proximal to distal.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._angles import CONDITIONING_LIMIT_DEG
from spacecomputer.biomech._events import FEET, Foot, up_unit_vector
from spacecomputer.biomech._kinematics import linear_velocity_m_s
from spacecomputer.domain import PoseSequence
from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

__all__ = [
    "ARM_CHAIN",
    "CHAINS",
    "LEG_CHAIN",
    "SEGMENT_DIRECTIONS",
    "Effector",
    "end_effector_speed_m_s",
    "end_effector_velocity_m_s",
    "segment_angular_speeds_deg_s",
]

Effector = Literal["hand", "foot"]
ARM_CHAIN = ("pelvis", "thorax", "upper_arm", "forearm", "hand")
"""Segments of a throw or a hand strike, proximal to distal."""
LEG_CHAIN = ("pelvis", "thigh", "shank", "foot")
"""Segments of a kick, proximal to distal."""
CHAINS: dict[Effector, tuple[str, ...]] = {"hand": ARM_CHAIN, "foot": LEG_CHAIN}
SEGMENT_DIRECTIONS = {
    "pelvis": "left→right hip line on the horizontal plane, about up",
    "thorax": "left→right shoulder line on the horizontal plane, about up",
    "upper_arm": "shoulder→elbow",
    "forearm": "elbow→wrist",
    "hand": "wrist→mean of index and pinky",
    "thigh": "hip→knee",
    "shank": "knee→ankle",
    "foot": "heel→foot index",
}
"""Segment → the direction vector whose turning rate is its angular speed (module table)."""
_LIMB_SEGMENTS = {
    "upper_arm": ("shoulder", ("elbow",)),
    "forearm": ("elbow", ("wrist",)),
    "hand": ("wrist", ("index", "pinky")),
    "thigh": ("hip", ("knee",)),
    "shank": ("knee", ("ankle",)),
    "foot": ("heel", ("foot_index",)),
}
_MIN_HORIZONTAL = float(np.sin(np.radians(CONDITIONING_LIMIT_DEG)))


def _landmark(sequence: PoseSequence, name: str) -> NDArray[np.float64]:
    try:
        return np.asarray(sequence.joint(name), dtype=np.float64)
    except KeyError:
        raise InvalidPoseDataError(
            f"strike analysis needs the BlazePose landmark {name!r}; skeleton {sequence.skeleton.name!r} lacks it",
            details={"skeleton": sequence.skeleton.name, "missing": name},
        ) from None


def _check(sequence: PoseSequence, side: str, effector: str | None = None) -> None:
    sequence.require_metric("strike and throw analyses")
    if side not in FEET:
        raise InvalidInputError(f"side must be 'left' or 'right'; got {side!r}", details={"side": side})
    if effector is not None and effector not in CHAINS:
        raise InvalidInputError(f"effector must be 'hand' or 'foot'; got {effector!r}", details={"effector": effector})


def end_effector_velocity_m_s(sequence: PoseSequence, *, effector: Effector, side: Foot) -> NDArray[np.float64]:
    """Return the (T, 3) velocity of the hand or foot point of one side, m/s, in the sequence's frame.

    The hand point is the mean of wrist, index and pinky, with the wrist's velocity where those are not all
    seen; the foot point is ``foot_index`` (module docstring). NaN where unknown.

    Raises
    ------
    InvalidInputError
        Unknown effector or side.
    InvalidPoseDataError
        A pixel sequence, or a skeleton without the landmarks.

    """
    _check(sequence, side, effector)
    t = sequence.timestamps_s
    if effector == "foot":
        return linear_velocity_m_s(_landmark(sequence, f"{side}_foot_index"), t)
    wrist = _landmark(sequence, f"{side}_wrist")
    hand = (wrist + _landmark(sequence, f"{side}_index") + _landmark(sequence, f"{side}_pinky")) / 3.0
    hand_velocity = linear_velocity_m_s(hand, t)
    seen = np.isfinite(hand_velocity).all(axis=1, keepdims=True)
    return np.asarray(np.where(seen, hand_velocity, linear_velocity_m_s(wrist, t)), dtype=np.float64)


def end_effector_speed_m_s(sequence: PoseSequence, *, effector: Effector, side: Foot) -> NDArray[np.float64]:
    """Return the (T,) speed of the hand or foot point of one side, m/s (NaN where unknown).

    The norm of :func:`end_effector_velocity_m_s`; same errors.
    """
    return _speed(end_effector_velocity_m_s(sequence, effector=effector, side=side))


def segment_angular_speeds_deg_s(
    sequence: PoseSequence, *, up: ArrayLike, side: Foot
) -> dict[str, NDArray[np.float64]]:
    """Return the (T,) angular speed of every segment of both chains for one side, deg/s (module table).

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, unknown side.
    InvalidPoseDataError
        A pixel sequence, or a skeleton without the landmarks.

    """
    up_unit = up_unit_vector(up)
    _check(sequence, side)
    t = sequence.timestamps_s
    out = {
        "pelvis": _direction_speed_deg_s(_heading(sequence, "hip", up_unit), t),
        "thorax": _direction_speed_deg_s(_heading(sequence, "shoulder", up_unit), t),
    }
    for segment, (proximal, distals) in _LIMB_SEGMENTS.items():
        start = _landmark(sequence, f"{side}_{proximal}")
        end = np.mean([_landmark(sequence, f"{side}_{d}") for d in distals], axis=0)
        out[segment] = _direction_speed_deg_s(_unit(end - start), t)
    return out


# --- internals ----------------------------------------------------------------------------------------------------


def _speed(velocity: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.linalg.norm(velocity, axis=1), dtype=np.float64)


def _unit(vectors: NDArray[np.float64], min_length: float = 1e-12) -> NDArray[np.float64]:
    length = np.linalg.norm(vectors, axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        keep = length > min_length
    return np.asarray(np.divide(vectors, length, out=np.full_like(vectors, np.nan), where=keep), dtype=np.float64)


def _heading(sequence: PoseSequence, joint: str, up: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the unit horizontal direction of a left→right joint line; NaN where nearly vertical or unknown."""
    line = _landmark(sequence, f"right_{joint}") - _landmark(sequence, f"left_{joint}")
    horizontal = line - np.outer(line @ up, up)
    length = np.linalg.norm(line, axis=1)
    with np.errstate(invalid="ignore"):
        conditioned = np.linalg.norm(horizontal, axis=1) >= _MIN_HORIZONTAL * length
    return np.asarray(np.where(conditioned[:, None], _unit(horizontal), np.nan), dtype=np.float64)


def _direction_speed_deg_s(unit: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the angular speed of (T, 3) unit vectors, deg/s: arcs between frames over the time they span."""
    out = np.full(unit.shape[0], np.nan)
    for start, stop in contiguous_runs(np.asarray(np.isfinite(unit).all(axis=1), dtype=bool)):
        if stop - start < 2:
            continue
        u, times = unit[start:stop], t[start:stop]
        chord = np.linalg.norm(np.diff(u, axis=0), axis=1)
        arc = np.degrees(2.0 * np.arcsin(np.minimum(chord / 2.0, 1.0)))
        padded_arc = np.concatenate(([0.0], arc, [0.0]))
        before = np.concatenate(([times[0]], times[:-1]))
        after = np.concatenate((times[1:], [times[-1]]))
        out[start:stop] = (padded_arc[:-1] + padded_arc[1:]) / (after - before)
    return out
