"""Strikes and throws: peak end-effector speed and proximal-to-distal sequencing of segment angular speeds.

Method
------
1. *End effector* speed of the hand or foot point, m/s; its peak over the whole clip is the moment of the strike or
   release, and a clip with several strikes is analysed at its fastest one.
2. *Segment angular speeds*, deg/s: the turning rate of each segment's direction vector in space.

   Steps 1 and 2 are computed in :mod:`~spacecomputer.biomech._sequencing_speeds`, whose docstring defines the
   points and the segments' direction vectors; its public names are re-exported here.
3. *Sequencing*: the chain is :data:`ARM_CHAIN` (pelvis, thorax, upper arm, forearm, hand) for a hand and
   :data:`LEG_CHAIN` (pelvis, thigh, shank, foot) for a kick. Each segment's peak angular speed and its time are
   taken within ``[t_peak − window_before_s, t_peak + window_after_s]`` around the end effector's peak
   (defaults 0.5 s and 0.15 s: our own choice, long enough for a throw's or a golf swing's build-up). The order
   is *proximal to distal* when every segment peaks strictly later than the one before it (two peaks in the
   same frame are not an order); the lags are the differences between consecutive peak times, s.

Putnam C.A. (1993), *Sequential motions of body segments in striking and throwing skills: descriptions and
explanations*, Journal of Biomechanics 26 (Suppl. 1):125–135, reviews this proximal-to-distal pattern; we only
measure whether a clip shows it, with our own segment definitions (in
:mod:`~spacecomputer.biomech._sequencing_speeds`), and give no norm.

Limitations: the global angular speed of a limb includes that of the segments it hangs from; monocular depth
noise adds spurious turning; at low frame rates the peaks are quantised to the frame interval, so short lags
(a few hundredths of a second) can read as ties at 30 fps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._events import FEET, Foot, up_unit_vector
from spacecomputer.biomech._sequencing_speeds import (
    ARM_CHAIN,
    CHAINS,
    LEG_CHAIN,
    SEGMENT_DIRECTIONS,
    Effector,
    _check,
    end_effector_speed_m_s,
    end_effector_velocity_m_s,
    segment_angular_speeds_deg_s,
)
from spacecomputer.domain import PoseSequence
from spacecomputer.errors import InvalidInputError

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

WINDOW_BEFORE_S = 0.5
"""Default extent of the sequencing window before the end effector's peak, s (our own choice)."""
WINDOW_AFTER_S = 0.15
"""Default extent of the sequencing window after the end effector's peak, s (our own choice)."""


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


def _peak(segment: str, speed: NDArray[np.float64], window: NDArray[np.bool_], t: NDArray[np.float64]) -> SegmentPeak:
    candidates = np.where(window, speed, np.nan)
    if not np.isfinite(candidates).any():
        return SegmentPeak(segment, None, None, None)
    row = peak_index(candidates)
    return SegmentPeak(segment, float(speed[row]), float(t[row]), row)
