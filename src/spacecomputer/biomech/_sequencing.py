"""Strikes and throws: peak end-effector speed and proximal-to-distal sequencing of segment angular speeds.

Method
------
1. *End effector* of a side: the **hand** point (mean of ``wrist``, ``index`` and ``pinky``; in frames where
   the index or pinky is missing, the wrist's own speed is used instead, so no jump between the two point
   definitions enters a derivative) or the **foot** point (``foot_index``). Its speed (m/s) is the norm of the
   central-difference velocity on the real timestamps (:func:`~spacecomputer.biomech._kinematics.linear_velocity_m_s`),
   in the sequence's frame. Its peak over the whole clip is the moment of the strike or release; a clip with
   several strikes is analysed at its fastest one.
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
3. *Sequencing*: the chain is :data:`ARM_CHAIN` (pelvis, thorax, upper arm, forearm, hand) for a hand and
   :data:`LEG_CHAIN` (pelvis, thigh, shank, foot) for a kick. Each segment's peak angular speed and its time are
   taken within ``[t_peak − window_before_s, t_peak + window_after_s]`` around the end effector's peak
   (defaults 0.5 s and 0.15 s: our own choice, long enough for a throw's or a golf swing's build-up). The order
   is *proximal to distal* when every segment peaks strictly later than the one before it (two peaks in the
   same frame are not an order); the lags are the differences between consecutive peak times, s.

Putnam C.A. (1993), *Sequential motions of body segments in striking and throwing skills: descriptions and
explanations*, Journal of Biomechanics 26 (Suppl. 1):125–135, reviews this proximal-to-distal pattern; we only
measure whether a clip shows it, with our own segment definitions above, and give no norm.

Limitations: the global angular speed of a limb includes that of the segments it hangs from; monocular depth
noise adds spurious turning; at low frame rates the peaks are quantised to the frame interval, so short lags
(a few hundredths of a second) can read as ties at 30 fps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
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
    "WINDOW_AFTER_S",
    "WINDOW_BEFORE_S",
    "Effector",
    "SegmentPeak",
    "StrikeSequencing",
    "end_effector_speed_m_s",
    "end_effector_velocity_m_s",
    "peak_index",
    "segment_angular_speeds_deg_s",
    "strike_sequencing",
]

Effector = Literal["hand", "foot"]
ARM_CHAIN = ("pelvis", "thorax", "upper_arm", "forearm", "hand")
"""Segments of a throw or a hand strike, proximal to distal."""
LEG_CHAIN = ("pelvis", "thigh", "shank", "foot")
"""Segments of a kick, proximal to distal."""
CHAINS: dict[Effector, tuple[str, ...]] = {"hand": ARM_CHAIN, "foot": LEG_CHAIN}
WINDOW_BEFORE_S = 0.5
"""Default extent of the sequencing window before the end effector's peak, s (our own choice)."""
WINDOW_AFTER_S = 0.15
"""Default extent of the sequencing window after the end effector's peak, s (our own choice)."""
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


@dataclass(frozen=True)
class SegmentPeak:
    """One segment's peak angular speed in the analysis window.

    Parameters
    ----------
    segment
        Segment name (``pelvis``, ``thorax``, ``upper_arm``, …).
    angular_speed_deg_s
        Peak angular speed, deg/s; ``None`` when the segment is never known in the window.
    time_s
        Timestamp of the peak, s; ``None`` with the speed.
    frame_index
        Row of the sequence at the peak; ``None`` with the speed.

    """

    segment: str
    angular_speed_deg_s: float | None
    time_s: float | None
    frame_index: int | None


@dataclass(frozen=True)
class StrikeSequencing:
    """The fastest strike or throw of a clip and the order in which its segments peak.

    Parameters
    ----------
    effector
        ``"hand"`` or ``"foot"``.
    side
        The analysed side (the athlete's own).
    peak_speed_m_s
        Peak end-effector speed, m/s; ``None`` when unavailable.
    peak_time_s, peak_index
        Timestamp (s) and row of that peak.
    window_s
        ``(start, end)`` timestamps of the window in which segment peaks were searched, s.
    peaks
        One :class:`SegmentPeak` per segment of the chain, proximal first.
    proximal_to_distal
        Whether every segment peaks strictly after the previous one; ``None`` when a peak is unknown.
    lags_s
        Peak time of each segment minus that of the one before it, s (``len(peaks) − 1`` values).
    unavailable_reason
        Why nothing could be measured; ``None`` when the end effector's peak was found.

    """

    effector: Effector
    side: Foot
    peak_speed_m_s: float | None
    peak_time_s: float | None
    peak_index: int | None
    window_s: tuple[float, float] | None
    peaks: tuple[SegmentPeak, ...]
    proximal_to_distal: bool | None
    lags_s: tuple[float | None, ...]
    unavailable_reason: str | None

    @property
    def chain(self) -> tuple[str, ...]:
        """Segment names of the chain, proximal first."""
        return CHAINS[self.effector]


def _landmark(sequence: PoseSequence, name: str) -> NDArray[np.float64]:
    try:
        return np.asarray(sequence.joint(name), dtype=np.float64)
    except KeyError:
        raise InvalidPoseDataError(
            f"strike analysis needs the BlazePose landmark {name!r}; skeleton {sequence.skeleton.name!r} lacks it",
            details={"skeleton": sequence.skeleton.name, "missing": name},
        ) from None


def _check(sequence: PoseSequence, side: str, effector: str | None = None) -> None:
    if not sequence.frame.is_metric:
        raise InvalidPoseDataError(
            f"strike analysis needs a metric pose sequence (hip_centred, camera or world); got {sequence.frame.value}",
            details={"frame": sequence.frame.value},
        )
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


def strike_sequencing(
    sequence: PoseSequence,
    *,
    up: ArrayLike,
    effector: Effector | None = None,
    side: Foot | None = None,
    window_before_s: float = WINDOW_BEFORE_S,
    window_after_s: float = WINDOW_AFTER_S,
) -> StrikeSequencing:
    """Find the fastest strike or throw and how its segments' angular speeds peak (method in the module docstring).

    Parameters
    ----------
    sequence
        Metric pose sequence on the BlazePose skeleton.
    up
        Unit 3-vector pointing up in the sequence's frame.
    effector
        ``"hand"``, ``"foot"``, or ``None`` for whichever reaches the higher peak speed.
    side
        ``"left"``, ``"right"``, or ``None`` for the side whose end effector is faster.
    window_before_s, window_after_s
        Extent of the window around the end effector's peak in which segment peaks are searched, s.

    Returns
    -------
    StrikeSequencing
        With ``unavailable_reason`` set when the end effector is never known in two consecutive frames.

    Raises
    ------
    InvalidInputError
        ``up`` not a unit vector, unknown effector or side, a negative or non-finite window.
    InvalidPoseDataError
        A pixel sequence, or a skeleton without the landmarks.

    """
    up_unit = up_unit_vector(up)
    for value, name in ((window_before_s, "window_before_s"), (window_after_s, "window_after_s")):
        if not (np.isfinite(value) and value >= 0):
            raise InvalidInputError(f"{name} must be a finite number of seconds ≥ 0; got {value!r}")
    effectors: tuple[Effector, ...] = ("hand", "foot") if effector is None else (effector,)
    sides: tuple[Foot, ...] = FEET if side is None else (side,)
    for e in effectors:
        for s in sides:
            _check(sequence, s, e)
    speeds = {(e, s): end_effector_speed_m_s(sequence, effector=e, side=s) for e in effectors for s in sides}
    best = {key: float(np.nanmax(v)) for key, v in speeds.items() if np.isfinite(v).any()}
    if not best:
        why = f"the {' or '.join(effectors)} point is never known in two consecutive frames"
        return _unavailable(effectors[0], sides[0], why)
    keys = list(best)
    chosen_effector, chosen_side = keys[peak_index(np.array([best[key] for key in keys]))]
    speed = speeds[chosen_effector, chosen_side]
    t = sequence.timestamps_s
    peak = peak_index(speed)
    window = (t >= t[peak] - window_before_s) & (t <= t[peak] + window_after_s)
    angular = segment_angular_speeds_deg_s(sequence, up=up_unit, side=chosen_side)
    peaks = tuple(_peak(name, angular[name], window, t) for name in CHAINS[chosen_effector])
    times = [p.time_s for p in peaks]
    lags: tuple[float | None, ...] = tuple(
        None if a is None or b is None else b - a for a, b in itertools.pairwise(times)
    )
    in_order = None if any(lag is None for lag in lags) else all(lag is not None and lag > 0 for lag in lags)
    return StrikeSequencing(
        effector=chosen_effector,
        side=chosen_side,
        peak_speed_m_s=float(speed[peak]),
        peak_time_s=float(t[peak]),
        peak_index=peak,
        window_s=(float(t[window][0]), float(t[window][-1])),
        peaks=peaks,
        proximal_to_distal=in_order,
        lags_s=lags,
        unavailable_reason=None,
    )


def peak_index(values: ArrayLike) -> int:
    """Return the index of the maximum of the finite values, the earliest one among near-ties.

    Values within ``1e-9 × max(1, |maximum|)`` of the maximum count as tied (our choice), so the peak of a flat
    signal is its first sample rather than wherever rounding noise puts it: a turned or mirrored copy of the
    scene then finds the same peak.

    Raises
    ------
    InvalidInputError
        If no value is finite.

    Examples
    --------
    >>> peak_index([1.0, 3.0, np.nan, 3.0 + 1e-12, 2.0])
    1

    """
    array = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(array)
    if not finite.any():
        raise InvalidInputError("no finite value to take the peak of")
    top = float(np.max(array[finite]))
    with np.errstate(invalid="ignore"):
        return int(np.flatnonzero(finite & (array >= top - 1e-9 * max(1.0, abs(top))))[0])


# --- internals --------------------------------------------------------------------------------------------------


def _unavailable(effector: Effector, side: Foot, why: str) -> StrikeSequencing:
    peaks = tuple(SegmentPeak(name, None, None, None) for name in CHAINS[effector])
    return StrikeSequencing(effector, side, None, None, None, None, peaks, None, (None,) * (len(peaks) - 1), why)


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


def _peak(segment: str, speed: NDArray[np.float64], window: NDArray[np.bool_], t: NDArray[np.float64]) -> SegmentPeak:
    candidates = np.where(window, speed, np.nan)
    if not np.isfinite(candidates).any():
        return SegmentPeak(segment, None, None, None)
    row = peak_index(candidates)
    return SegmentPeak(segment, float(speed[row]), float(t[row]), row)
