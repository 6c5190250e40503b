"""Zero-phase Butterworth low-pass of landmark trajectories and Winter's residual analysis, on plain arrays.

Conventions shared by the functions here: the input has time on axis 0 and any trailing shape (for a
pose, (T, J, 3): frames × joints × xyz), float64, NaN where a sample is missing; it is uniformly sampled
at ``fs_hz`` (resample a variable-frame-rate sequence first). Every trailing element (one coordinate of
one joint) is a separate signal, and every contiguous NaN-free run of a signal is filtered on its own:
NaN stays NaN and no value crosses a gap.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

from spacecomputer.domain._runs import contiguous_runs
from spacecomputer.errors import InsufficientDataError, InvalidInputError, InvalidPoseDataError

__all__ = ["ResidualAnalysis", "butterworth_lowpass", "residual_analysis_cutoff"]

_MIN_ANALYSIS_RUN_SAMPLES = 16
"""Shortest NaN-free run that counts in the residual analysis; shorter runs are mostly filter edge."""

_DEFAULT_CANDIDATE_COUNT = 99
_DEFAULT_NOISE_BAND = (0.4, 0.8)
"""Default noise-line fit band, as fractions of the Nyquist frequency."""

_Spans = dict[tuple[int, int], list[int]]
"""NaN-free runs ``(start, stop)`` mapped to the columns that share them, so they are filtered together."""


@dataclass(frozen=True, eq=False)
class ResidualAnalysis:
    """What :func:`residual_analysis_cutoff` returns; residuals are in the unit of the positions.

    Attributes
    ----------
    cutoff_hz
        The chosen cut-off, Hz: the lowest candidate whose residual is at or below ``noise_intercept``.
    candidates_hz
        (K,) cut-offs tried, Hz, increasing.
    residual_rms
        (K,) pooled RMS of raw − filtered at each candidate.
    noise_intercept
        Value at 0 Hz of the straight line fitted to the residuals in ``noise_band_hz``: the noise RMS.
    noise_slope_per_hz
        Slope of that line, position unit per Hz.
    noise_band_hz
        (low, high) cut-offs, Hz, whose residuals the line was fitted to (bounds included).

    """

    cutoff_hz: float
    candidates_hz: NDArray[np.float64]
    residual_rms: NDArray[np.float64]
    noise_intercept: float
    noise_slope_per_hz: float
    noise_band_hz: tuple[float, float]


def butterworth_lowpass(
    positions: NDArray[np.float64], *, fs_hz: float, cutoff_hz: float, order: int = 4
) -> NDArray[np.float64]:
    """Low-pass every NaN-free run of every signal with a zero-phase (forward-backward) Butterworth filter.

    The filter is ``scipy.signal.butter(order, cutoff_hz, fs=fs_hz, output="sos")`` run forwards and
    backwards (``sosfiltfilt``), so it has no phase lag and its effective order is ``2 * order``.
    ``cutoff_hz`` is the *design* cut-off, not corrected for the double pass: each pass is -3 dB there,
    so the combined gain at ``cutoff_hz`` is 1/2 (-6 dB) and the combined -3 dB point lies near
    ``cutoff_hz * (sqrt(2) - 1) ** (1 / (2 * order))`` (0.90 × cut-off for order 4).

    Edges (our own rule): the chord of each run (the straight line through its first and last samples)
    is subtracted, the remainder is extended at both ends by point reflection about its end samples (the
    odd extension ``sosfiltfilt`` uses) repeated as often as needed to add
    ``ceil((order + 1) * fs_hz / cutoff_hz)`` samples per side, even to a run shorter than that, and the
    chord is added back after filtering. Reflecting the chord with the rest would give the same
    extension; keeping it out makes constants and straight lines come out exactly unchanged. The
    filter's start-up transient dies out within the extension (its impulse response falls below 1e-4 of
    its peak within about ``order`` cut-off periods), so short runs are smoothed, not left to
    transients. As with any odd extension, the filtered run passes (almost) through its first and last
    raw samples: noise on a run's end samples is not removed. A run of one sample is returned unchanged.

    Parameters
    ----------
    positions
        (T, ...) samples, time on axis 0, any unit; NaN where missing; no infinities.
    fs_hz
        Sampling rate, Hz; finite and > 0.
    cutoff_hz
        Design cut-off, Hz; ``0 < cutoff_hz < fs_hz / 2``.
    order
        Order of the designed Butterworth filter (of one pass); >= 1.

    Returns
    -------
    numpy.ndarray
        New float64 array of the input's shape, NaN exactly where the input is NaN.

    Raises
    ------
    InvalidPoseDataError
        If ``positions`` has no time axis or holds infinities.
    InvalidInputError
        If ``fs_hz``, ``cutoff_hz`` or ``order`` is out of range (the cut-off must be below Nyquist).

    Examples
    --------
    >>> butterworth_lowpass(np.array([2.0, 2.0, 2.0, np.nan, 2.0]), fs_hz=30.0, cutoff_hz=6.0)
    array([ 2.,  2.,  2., nan,  2.])

    """
    values = _validated_samples(positions)
    _check_filter(fs_hz=fs_hz, cutoff_hz=cutoff_hz, order=order)
    columns = _as_columns(values)
    spans = _spans(np.isfinite(columns), min_run_samples=1)
    filtered = _filter_spans(columns, spans, fs_hz=fs_hz, cutoff_hz=cutoff_hz, order=order)
    return filtered.reshape(values.shape)


def residual_analysis_cutoff(
    positions: NDArray[np.float64],
    *,
    fs_hz: float,
    candidates_hz: NDArray[np.float64] | None = None,
    noise_band_hz: tuple[float, float] | None = None,
    order: int = 4,
) -> ResidualAnalysis:
    """Choose a low-pass cut-off by Winter's residual analysis.

    The method is from Winter, D.A., *Biomechanics and Motor Control of Human Movement*. For each
    candidate cut-off the data are filtered with :func:`butterworth_lowpass` and the residual RMS of
    raw − filtered is computed. Above the signal's bandwidth the residual is noise only and falls almost
    linearly with the cut-off; a straight line is fitted (least squares) to the residuals whose
    candidates lie in ``noise_band_hz``, and its intercept at 0 Hz estimates the RMS of the noise. The
    chosen cut-off is the lowest candidate whose residual is at or below that intercept, i.e. where the
    signal distortion has fallen to the noise level (the highest candidate if none is).

    Pooling (our own choice): one RMS per candidate over every valid sample of every signal, i.e. the
    square root of the mean squared residual over all joints and coordinates together, so one cut-off
    serves the whole pose. Only NaN-free runs of at least 16 samples count; shorter runs are mostly
    filter edge. The default band, 0.4 to 0.8 of the Nyquist frequency, is our own choice: on white noise
    plus a slow signal it puts the intercept within about 12 % of the true noise RMS at 30 to 240 Hz.
    The method assumes that band holds noise only: at 24 to 30 fps it spans about 5 to 12 Hz, where
    fast movement (sprinting, striking) still has power, so the intercept overestimates the noise and
    the cut-off comes out low (2 to 3.6 Hz on the elite clips in ``data/athletes``): treat the result as
    advice at such frame rates.

    Parameters
    ----------
    positions
        (T, ...) samples, time on axis 0, any unit; NaN where missing; uniformly sampled (resample a
        variable-frame-rate sequence first).
    fs_hz
        Sampling rate, Hz; finite and > 0.
    candidates_hz
        (K,) cut-offs to try, Hz, strictly increasing, each in (0, fs_hz / 2). Default: 99 values evenly
        spaced from 1 % to 99 % of the Nyquist frequency.
    noise_band_hz
        (low, high) bounds of the candidates the noise line is fitted to, Hz; it must hold at least two
        candidates. Default: (0.4, 0.8) × fs_hz / 2.
    order
        Order of the designed Butterworth filter, as in :func:`butterworth_lowpass`.

    Returns
    -------
    ResidualAnalysis
        The chosen cut-off with the residual curve and the noise line behind it.

    Raises
    ------
    InsufficientDataError
        If no signal has a NaN-free run of at least 16 samples.
    InvalidPoseDataError
        If ``positions`` has no time axis or holds infinities.
    InvalidInputError
        If ``fs_hz``, ``candidates_hz``, ``noise_band_hz`` or ``order`` is out of range.

    """
    values = _validated_samples(positions)
    candidates = _validated_candidates(candidates_hz, fs_hz=fs_hz, order=order)
    nyquist_hz = fs_hz / 2.0
    band_low_hz, band_high_hz = noise_band_hz or tuple(f * nyquist_hz for f in _DEFAULT_NOISE_BAND)
    in_band = (candidates >= band_low_hz) & (candidates <= band_high_hz)
    if np.count_nonzero(in_band) < 2:
        raise InvalidInputError(
            f"noise_band_hz must hold at least 2 candidate cut-offs; ({band_low_hz}, {band_high_hz}) Hz "
            f"holds {np.count_nonzero(in_band)}",
            details={"noise_band_hz": [band_low_hz, band_high_hz], "candidates_in_band": int(in_band.sum())},
        )
    columns = _as_columns(values)
    spans = _spans(np.isfinite(columns), min_run_samples=_MIN_ANALYSIS_RUN_SAMPLES)
    if not spans:
        raise InsufficientDataError(
            f"residual analysis needs a NaN-free run of at least {_MIN_ANALYSIS_RUN_SAMPLES} samples; none was found",
            details={"min_run_samples": _MIN_ANALYSIS_RUN_SAMPLES, "shape": list(values.shape)},
        )
    counted = np.zeros(columns.shape, dtype=np.bool_)
    for (start, stop), cols in spans.items():
        counted[start:stop, cols] = True
    residual_rms = np.empty(len(candidates))
    for k, cutoff_hz in enumerate(candidates):
        filtered = _filter_spans(columns, spans, fs_hz=fs_hz, cutoff_hz=float(cutoff_hz), order=order)
        residual_rms[k] = math.sqrt(float(np.mean((columns - filtered)[counted] ** 2)))
    slope, intercept = _line_fit(candidates[in_band], residual_rms[in_band])
    at_noise_level = np.flatnonzero(residual_rms <= intercept)
    chosen = int(at_noise_level[0]) if at_noise_level.size else len(candidates) - 1
    return ResidualAnalysis(
        cutoff_hz=float(candidates[chosen]),
        candidates_hz=candidates,
        residual_rms=residual_rms,
        noise_intercept=intercept,
        noise_slope_per_hz=slope,
        noise_band_hz=(float(band_low_hz), float(band_high_hz)),
    )


def _validated_samples(positions: Any) -> NDArray[np.float64]:
    values = np.asarray(positions, dtype=np.float64)
    if values.ndim == 0:
        raise InvalidPoseDataError(
            "positions must have a time axis (shape (T, ...)); got a scalar", details={"shape": []}
        )
    if np.isinf(values).any():
        raise InvalidPoseDataError(
            "positions must be finite or NaN (NaN marks a missing sample); got infinite values",
            details={"n_infinite": int(np.isinf(values).sum())},
        )
    return values


def _check_filter(*, fs_hz: float, cutoff_hz: float, order: int) -> None:
    _check_rate_and_order(fs_hz=fs_hz, order=order)
    if not (math.isfinite(cutoff_hz) and 0.0 < cutoff_hz < fs_hz / 2.0):
        raise InvalidInputError(
            f"cutoff_hz must lie in (0, fs_hz / 2) = (0, {fs_hz / 2.0}) Hz; got cutoff_hz={cutoff_hz} "
            f"with fs_hz={fs_hz}",
            details={"cutoff_hz": cutoff_hz, "fs_hz": fs_hz},
        )


def _check_rate_and_order(*, fs_hz: float, order: int) -> None:
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise InvalidInputError(f"order must be an integer >= 1; got {order!r}", details={"order": order})
    if not (math.isfinite(fs_hz) and fs_hz > 0.0):
        raise InvalidInputError(f"fs_hz must be a finite rate > 0 Hz; got {fs_hz}", details={"fs_hz": fs_hz})


def _validated_candidates(
    candidates_hz: NDArray[np.float64] | None, *, fs_hz: float, order: int
) -> NDArray[np.float64]:
    _check_rate_and_order(fs_hz=fs_hz, order=order)
    if candidates_hz is None:
        fractions = np.arange(1, _DEFAULT_CANDIDATE_COUNT + 1) / (_DEFAULT_CANDIDATE_COUNT + 1)
        return fs_hz / 2.0 * fractions
    candidates = np.asarray(candidates_hz, dtype=np.float64)
    if candidates.ndim != 1 or candidates.size == 0 or not (np.diff(candidates) > 0).all():
        raise InvalidInputError(
            f"candidates_hz must be a non-empty, strictly increasing 1-D array of Hz; got shape {candidates.shape}",
            details={"shape": list(candidates.shape)},
        )
    for cutoff_hz in (candidates[0], candidates[-1]):
        _check_filter(fs_hz=fs_hz, cutoff_hz=float(cutoff_hz), order=order)
    return candidates


def _as_columns(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """View (T, ...) as (T, C): one column per signal."""
    return values.reshape(values.shape[0], math.prod(values.shape[1:]))


def _spans(finite: NDArray[np.bool_], *, min_run_samples: int) -> _Spans:
    spans: _Spans = defaultdict(list)
    for column in range(finite.shape[1]):
        for start, stop in contiguous_runs(finite[:, column]):
            if stop - start >= min_run_samples:
                spans[(start, stop)].append(column)
    return dict(spans)


def _filter_spans(
    columns: NDArray[np.float64], spans: _Spans, *, fs_hz: float, cutoff_hz: float, order: int
) -> NDArray[np.float64]:
    sos = butter(order, cutoff_hz, fs=fs_hz, output="sos")
    pad_samples = math.ceil((order + 1) * fs_hz / cutoff_hz)
    filtered = columns.copy()
    for (start, stop), cols in spans.items():
        if stop - start < 2:
            continue
        block = columns[start:stop, cols]
        fraction = np.linspace(0.0, 1.0, stop - start)[:, None]
        chord = block[:1] + (block[-1:] - block[:1]) * fraction
        extended = _odd_extension(block - chord, pad_samples=pad_samples)
        smoothed = sosfiltfilt(sos, extended, axis=0, padlen=0)
        filtered[start:stop, cols] = smoothed[pad_samples : pad_samples + stop - start] + chord
    return filtered


def _odd_extension(block: NDArray[np.float64], *, pad_samples: int) -> NDArray[np.float64]:
    """Add ``pad_samples`` rows at each end by point reflection about the end rows, repeated as needed."""
    extended = block
    added = 0
    while added < pad_samples:
        k = min(extended.shape[0] - 1, pad_samples - added)
        before = 2.0 * extended[:1] - extended[k:0:-1]
        after = 2.0 * extended[-1:] - extended[-2 : -k - 2 : -1]
        extended = np.concatenate((before, extended, after))
        added += k
    return extended


def _line_fit(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[float, float]:
    """Return (slope, intercept) of the least-squares line through distinct ``x``."""
    x_mean, y_mean = float(x.mean()), float(y.mean())
    slope = float(np.sum((x - x_mean) * (y - y_mean)) / np.sum((x - x_mean) ** 2))
    return slope, y_mean - slope * x_mean
