"""Short-gap interpolation of landmark trajectories, on plain arrays.

Conventions shared by the functions here: ``positions`` has shape (T, J, 3) (frames × joints × xyz),
float64, NaN where a landmark is missing; ``timestamps_s`` has shape (T,), seconds, strictly increasing
and possibly irregular (variable frame rate). A joint is *missing* in a frame when any of its x, y, z is
NaN: the three coordinates are always treated together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray
from scipy.interpolate import PchipInterpolator

from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InvalidInputError, InvalidPoseDataError

__all__ = ["GapFillResult", "LongGap", "fill_gaps"]

_DURATION_TOLERANCE_S = 1e-9
"""Slack on ``gap duration <= max_gap_s`` so that a gap of exactly ``max_gap_s`` survives rounding."""


class LongGap(NamedTuple):
    """An interior gap of one joint left missing because it lasted longer than ``max_gap_s``."""

    joint_index: int
    first_frame: int
    """Index of the first missing frame."""
    last_frame: int
    """Index of the last missing frame (inclusive)."""


@dataclass(frozen=True, eq=False)
class GapFillResult:
    """What :func:`fill_gaps` returns.

    Attributes
    ----------
    positions
        (T, J, 3) new array: the input with short interior gaps interpolated. A joint that is missing in a
        frame is either fully interpolated there or all-NaN (a partial landmark is blanked, not kept).
    filled
        (T, J) True where the joint's position was interpolated rather than observed.
    long_gaps
        Interior gaps left missing because longer than ``max_gap_s``, ordered by joint then frame.
        Leading and trailing missing frames are never interpolated and are not listed here.

    """

    positions: NDArray[np.float64]
    filled: NDArray[np.bool_]
    long_gaps: tuple[LongGap, ...]


def fill_gaps(positions: NDArray[np.float64], timestamps_s: NDArray[np.float64], *, max_gap_s: float) -> GapFillResult:
    """Interpolate short interior gaps of each joint with a shape-preserving cubic (PCHIP).

    For every joint, the frames where it is missing are grouped into runs (gaps). The duration of a gap
    is our own definition: with ``a`` the last valid frame before it and ``b`` the first valid frame after
    it, ``duration = t[b] - t[a] - Δt``, where ``Δt`` is the median frame interval of the whole sequence.
    At a constant frame rate this is exactly the number of missing frames times the frame interval (3
    missing frames at 30 fps last 0.1 s); at a variable frame rate it is the time the joint went
    unobserved beyond one ordinary frame interval. A 1 ns tolerance absorbs rounding, so a gap of exactly
    ``max_gap_s`` is filled.

    A gap with a valid frame on both sides whose duration is at most ``max_gap_s`` is filled by
    :class:`scipy.interpolate.PchipInterpolator` through all valid frames of that joint, evaluated at the
    real timestamps; x, y and z are interpolated together. PCHIP is monotone between consecutive valid
    samples, so a filled value never leaves the range of the two valid samples around its gap. Leading
    and trailing missing frames are never extrapolated; a joint with fewer than two valid frames has no
    interior gap and is left as it is. The input is never modified.

    Parameters
    ----------
    positions
        (T, J, 3) positions in any length unit; NaN where missing; no infinities.
    timestamps_s
        (T,) frame times, seconds, finite and strictly increasing.
    max_gap_s
        Longest gap that is interpolated, seconds; ``>= 0`` (0 fills nothing at a constant frame rate).

    Returns
    -------
    GapFillResult
        The filled copy, the (T, J) mask of interpolated values, and the interior gaps left missing.

    Raises
    ------
    InvalidPoseDataError
        If ``positions`` is not (T, J, 3), holds infinities, or ``timestamps_s`` is not (T,), finite and
        strictly increasing.
    InvalidInputError
        If ``max_gap_s`` is negative or not finite.

    Examples
    --------
    >>> ramp = np.arange(6.0)[:, None, None] * np.ones((1, 1, 3))
    >>> ramp[2:4] = np.nan
    >>> result = fill_gaps(ramp, np.arange(6) / 30.0, max_gap_s=0.1)
    >>> result.positions[:, 0, 0], result.filled[:, 0]
    (array([0., 1., 2., 3., 4., 5.]), array([False, False,  True,  True, False, False]))

    """
    values = _validated_positions(positions)
    times_s = _validated_timestamps(timestamps_s, n_frames=values.shape[0])
    if not (math.isfinite(max_gap_s) and max_gap_s >= 0.0):
        raise InvalidInputError(
            f"max_gap_s must be a finite number >= 0 seconds; got {max_gap_s}",
            details={"max_gap_s": max_gap_s},
        )
    n_frames, n_joints = values.shape[:2]
    missing: NDArray[np.bool_] = np.logical_or.reduce(np.isnan(values), axis=2)
    filled_positions = values.copy()
    filled_positions[missing] = np.nan
    filled = np.zeros((n_frames, n_joints), dtype=np.bool_)
    long_gaps: list[LongGap] = []
    frame_interval_s = float(np.median(np.diff(times_s))) if n_frames >= 2 else 0.0
    for joint in range(n_joints):
        for start, stop in contiguous_runs(missing[:, joint]):
            if start == 0 or stop == n_frames:
                continue
            duration_s = float(times_s[stop] - times_s[start - 1]) - frame_interval_s
            if duration_s <= max_gap_s + _DURATION_TOLERANCE_S:
                filled[start:stop, joint] = True
            else:
                long_gaps.append(LongGap(joint, start, stop - 1))
        to_fill = filled[:, joint]
        if to_fill.any():
            valid = ~missing[:, joint]
            interpolator = PchipInterpolator(times_s[valid], values[valid, joint, :], axis=0)
            filled_positions[to_fill, joint, :] = interpolator(times_s[to_fill])
    return GapFillResult(positions=filled_positions, filled=filled, long_gaps=tuple(long_gaps))


def _validated_positions(positions: Any) -> NDArray[np.float64]:
    values = np.asarray(positions, dtype=np.float64)
    if values.ndim != 3 or values.shape[2] != 3:
        raise InvalidPoseDataError(
            f"positions must have shape (frames, joints, 3); got {values.shape}",
            details={"shape": list(values.shape)},
        )
    if np.isinf(values).any():
        raise InvalidPoseDataError(
            "positions must be finite or NaN (NaN marks a missing landmark); got infinite values",
            details={"n_infinite": int(np.isinf(values).sum())},
        )
    return values


def _validated_timestamps(timestamps_s: Any, *, n_frames: int) -> NDArray[np.float64]:
    times_s = np.asarray(timestamps_s, dtype=np.float64)
    if times_s.shape != (n_frames,):
        raise InvalidPoseDataError(
            f"timestamps_s must have shape ({n_frames},) to match positions; got {times_s.shape}",
            details={"expected_shape": [n_frames], "shape": list(times_s.shape)},
        )
    if not (np.isfinite(times_s).all() and (np.diff(times_s) > 0).all()):
        raise InvalidPoseDataError(
            "timestamps_s must be finite and strictly increasing seconds; got repeated, decreasing or "
            "non-finite values",
            details={"n_non_increasing": int((np.diff(times_s) <= 0).sum())},
        )
    return times_s
