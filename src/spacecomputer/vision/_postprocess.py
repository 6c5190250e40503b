"""Gap filling and smoothing applied to whole :class:`~spacecomputer.domain.PoseSequence` objects.

The maths lives in :mod:`._gaps` and :mod:`._filtering` (plain arrays); this module keeps the
sequence's confidence and provenance flags consistent with what was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from spacecomputer.domain import PoseFlag, PoseSequence
from spacecomputer.errors import InsufficientDataError
from spacecomputer.vision._filtering import butterworth_lowpass, residual_analysis_cutoff
from spacecomputer.vision._gaps import LongGap, fill_gaps

__all__ = ["FILTER_ORDER", "GapFilling", "Smoothing", "fill_sequence_gaps", "smooth_sequence"]

FILTER_ORDER = 4
"""Order of the designed Butterworth low-pass (run forwards and backwards: zero phase)."""

NYQUIST_MARGIN = 0.45
"""A requested cut-off above this fraction of the sampling rate is lowered to it (must stay below 0.5)."""


@dataclass(frozen=True, eq=False)
class GapFilling:
    """A gap-filled sequence and what was filled."""

    sequence: PoseSequence
    frames_filled: int
    long_gaps: tuple[LongGap, ...]


@dataclass(frozen=True, eq=False)
class Smoothing:
    """A low-pass filtered sequence and the filter that was used."""

    sequence: PoseSequence
    cutoff_hz: float
    method: Literal["fixed", "residual_analysis"]
    sampling_rate_hz: float
    note: str | None


def fill_sequence_gaps(sequence: PoseSequence, *, max_gap_s: float) -> GapFilling:
    """Interpolate interior gaps no longer than ``max_gap_s`` (PCHIP on the real timestamps).

    Filled landmarks get :attr:`PoseFlag.INTERPOLATED` and a confidence interpolated linearly between
    the observed values on either side; landmarks in longer gaps stay NaN with
    :attr:`PoseFlag.LONG_GAP`.
    """
    result = fill_gaps(np.array(sequence.positions), sequence.timestamps_s, max_gap_s=max_gap_s)
    confidence = np.array(sequence.confidence)
    flags = np.array(sequence.flags)
    present = sequence.present
    t = sequence.timestamps_s
    for joint in np.flatnonzero(result.filled.any(axis=0)):
        rows = result.filled[:, joint]
        observed = present[:, joint]
        confidence[rows, joint] = np.interp(t[rows], t[observed], sequence.confidence[observed, joint])
        flags[rows, joint] |= np.uint8(PoseFlag.INTERPOLATED)
    for gap in result.long_gaps:
        flags[gap.first_frame : gap.last_frame + 1, gap.joint_index] |= np.uint8(PoseFlag.LONG_GAP)
    filled = sequence.replace(positions=result.positions, confidence=confidence, flags=flags)
    return GapFilling(sequence=filled, frames_filled=int(result.filled.any(axis=1).sum()), long_gaps=result.long_gaps)


def sampling_rate_hz(sequence: PoseSequence) -> float:
    """Return the sampling rate for filtering: 1 / median frame interval (the nominal fps below 2 frames).

    For a variable-frame-rate video this treats samples as evenly spaced at the median interval, which
    is the usual approximation when intervals vary by a few per cent.
    """
    if sequence.n_frames < 2:
        return sequence.fps
    return float(1.0 / np.median(np.diff(sequence.timestamps_s)))


def smooth_sequence(
    sequence: PoseSequence, *, cutoff_hz: float | Literal["auto"], order: int = FILTER_ORDER
) -> Smoothing:
    """Zero-phase Butterworth low-pass of every landmark coordinate; NaN gaps split the filtering.

    ``cutoff_hz="auto"`` picks the cut-off by Winter's residual analysis on this sequence. A cut-off at
    or above the Nyquist margin of the sampling rate is lowered and the returned ``note`` says so.
    """
    fs_hz = sampling_rate_hz(sequence)
    note = None
    method: Literal["fixed", "residual_analysis"] = "fixed"
    if cutoff_hz == "auto":
        try:
            chosen = residual_analysis_cutoff(np.array(sequence.positions), fs_hz=fs_hz, order=order).cutoff_hz
            method = "residual_analysis"
        except InsufficientDataError as exc:
            chosen = min(6.0, NYQUIST_MARGIN * fs_hz)
            note = f"residual analysis impossible ({exc.message}); used {chosen:.2f} Hz"
    else:
        chosen = float(cutoff_hz)
    if chosen >= NYQUIST_MARGIN * fs_hz:
        lowered = NYQUIST_MARGIN * fs_hz
        note = f"cut-off {chosen:.2f} Hz is too close to the Nyquist frequency at {fs_hz:.2f} Hz; used {lowered:.2f} Hz"
        chosen = lowered
    smoothed = butterworth_lowpass(np.array(sequence.positions), fs_hz=fs_hz, cutoff_hz=chosen, order=order)
    return Smoothing(
        sequence=sequence.replace(positions=smoothed),
        cutoff_hz=chosen,
        method=method,
        sampling_rate_hz=fs_hz,
        note=note,
    )
