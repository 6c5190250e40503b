"""The athlete's depth through a clip: per-frame monocular depth cues held to how a human can move.

Why
---
One camera measures the athlete's depth (distance along the optical axis) only through the apparent size of
the body: depth ≈ focal length × body size / size in the image. A relative error in the size match is the same
relative error in depth. On the bundled Sports2D sample (athlete about 11 m away, 2520 px focal length) the
per-frame depth swings by ±0.2–0.3 m while the athlete stands still, following the pose (arms raised, a squat)
rather than frame-to-frame noise, so the 6 Hz landmark filter keeps it and differentiation turns it into
2–9 m/s of horizontal speed. Where the 2D skeleton collapses (the athlete tucked in a flip into the sun:
BlazePose draws the body half its size), the cue says 17.9 m against 11.5 m a quarter of a second earlier.

Method (:func:`smooth_depth`)
-----------------------------
a. **Motion model.** Depth and its rate follow a constant-velocity model whose acceleration is white noise,
   constant over each frame interval, with standard deviation ``acceleration_sigma_m_s2`` (the discrete
   white-noise acceleration model of Bar-Shalom, Li & Kirubarajan, *Estimation with Applications to Tracking
   and Navigation*, Wiley 2001). A constant speed costs nothing: an athlete running toward the camera keeps
   his speed; what the model resists is depth changing direction faster than a body can.
b. **Measurements.** Each usable frame's depth comes with the standard error of its least-squares solve
   (``depth_sigma_m``: large when few landmarks are seen or they disagree with the 3D body). That error
   describes the frame's geometry, not the size of BlazePose's pose-dependent errors, so it is multiplied by
   one factor per clip, the median absolute deviation (× 1.4826) of the standardised residuals about the
   smoothed depth, re-estimated at each pass and never below 1 (model errors only add to a solve's own
   standard error). On the sample the factor is 2.8 with the calibration, 1.3 without.
c. **Smoothing.** A Kalman filter and a Rauch–Tung–Striebel smoother (Rauch, Tung & Striebel 1965, AIAA
   Journal 3(8)) give the depth at every frame from all measurements before and after it, with its standard
   deviation. Frames without a measurement are bridged by the model.
d. **Robustness.** Iteratively reweighted: each measurement's variance is divided by Tukey's biweight of its
   standardised residual (tuning constant :data:`TUKEY_C`, 95 % efficiency for Gaussian errors). A measurement
   more than ``TUKEY_C`` robust standard deviations from the smoothed depth takes no part; the passes stop when
   the weights settle.
e. **Error in time.** The smoothed depth's error is itself a Gauss–Markov process under the model; the last
   smoother pass records it frame by frame (:class:`~spacecomputer.domain._placement.DepthErrorProcess`: the
   smoother's gain and the covariance left to each frame once the next is known). A draw from it has the
   smoother's standard deviation in every frame and the model's correlation between frames; the Monte Carlo
   uncertainty moves the whole body by such draws.

For a steady stream of measurements with standard deviation ``σ`` the smoother acts as a zero-phase low-pass
whose gain falls to ½ at ``sqrt(acceleration_sigma_m_s2 / σ) / (2π)`` Hz, as the landmark filter's does at its
cut-off: 0.9 Hz for 10 m/s² and 0.3 m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.domain._placement import DepthErrorProcess
from spacecomputer.errors import InvalidInputError

__all__ = ["ACCEPTED_WEIGHT", "DEFAULT_ACCELERATION_SIGMA_M_S2", "TUKEY_C", "DepthTrack", "smooth_depth"]

DEFAULT_ACCELERATION_SIGMA_M_S2 = 10.0
"""Standard deviation of the depth acceleration per frame interval, m/s² (our own choice, about 1 g). On synthetic
depth tracks with 0.3 m of white noise (an 8 m/s sprint at the camera, a cut from 5 m/s toward it to 5 m/s away in
0.67 s) it gave a smaller RMS error of the depth rate than 5 or 20 m/s² (0.35 against 0.41–0.54 m/s); on the sample
the standing athlete's centre of mass then moves at 1.2 m/s at the 90th percentile."""
ACCEPTED_WEIGHT = 0.5
"""A measurement counts as accepted when its robust weight is at least this: its residual lies within 2.5 robust
standard deviations of the smoothed depth. Below it the measurement still takes part, its variance more than
doubled, but the depth there is mostly the motion model's."""
TUKEY_C = 4.685
"""Tukey biweight tuning constant, in robust standard deviations (95 % efficiency for Gaussian errors)."""
MEASUREMENT_FLOOR_M = 1e-6
"""Smallest measurement standard deviation used, m (a micrometre: exact synthetic data must not divide by zero)."""
_MAX_PASSES = 20
_WEIGHT_TOLERANCE = 1e-3
_INITIAL_RATE_SIGMA_M_S = 10.0  # prior on the depth rate at the first measurement: any running speed


@dataclass(frozen=True, eq=False)
class DepthTrack:
    """The smoothed depth of a clip.

    Parameters
    ----------
    depth_m
        (T,) smoothed depth, m, at every frame (the model bridges and extrapolates); all NaN only when
        there is no measurement at all.
    depth_sigma_m
        (T,) standard deviation of ``depth_m`` under the model, m.
    rate_m_s
        (T,) smoothed rate of change of depth, m/s.
    weight
        (T,) final robust weight of each frame's measurement in [0, 1]; 0 where there was none or it was
        rejected.
    noise_factor
        The clip's factor on the per-frame standard errors (method step b).
    offered
        (T,) frames that had a measurement.
    acceleration_sigma_m_s2
        The motion model's acceleration standard deviation, m/s².
    error
        The error of ``depth_m`` as a process in time, to draw errors with both its standard deviation
        ``depth_sigma_m`` and the correlation the motion model implies (method step e); ``None`` when there is
        no measurement at all.

    """

    depth_m: NDArray[np.float64]
    depth_sigma_m: NDArray[np.float64]
    rate_m_s: NDArray[np.float64]
    weight: NDArray[np.float64]
    noise_factor: float
    offered: NDArray[np.bool_]
    acceleration_sigma_m_s2: float
    error: DepthErrorProcess | None

    @property
    def measured(self) -> NDArray[np.bool_]:
        """(T,) frames whose measurement was accepted (robust weight at least :data:`ACCEPTED_WEIGHT`)."""
        return np.asarray(self.weight >= ACCEPTED_WEIGHT)

    @property
    def n_outliers(self) -> int:
        """Frames whose measurement was not accepted."""
        return int(np.sum(self.offered & ~self.measured))


def smooth_depth(
    depth_m: NDArray[np.float64],
    depth_sigma_m: NDArray[np.float64],
    timestamps_s: NDArray[np.float64],
    *,
    acceleration_sigma_m_s2: float = DEFAULT_ACCELERATION_SIGMA_M_S2,
) -> DepthTrack:
    """Robustly smooth per-frame depth measurements (see the module docstring).

    Parameters
    ----------
    depth_m
        (T,) depth measured in each frame, m; NaN where there is no usable measurement.
    depth_sigma_m
        (T,) standard error of each measurement from its own solve, m (relative weights; NaN with the depth).
    timestamps_s
        (T,) frame times, s, strictly increasing.
    acceleration_sigma_m_s2
        Standard deviation of the depth acceleration over one frame interval, m/s² (positive).

    Returns
    -------
    DepthTrack
        Smoothed depth, its standard deviation and rate, the measurements' robust weights.

    Examples
    --------
    A still athlete 8 m away whose depth cue jumps by 4 m in one frame:

    >>> depth = np.full(30, 8.0) + 0.05 * np.sin(np.arange(30))
    >>> depth[15] = 12.0
    >>> track = smooth_depth(depth, np.full(30, 0.05), np.arange(30) / 30.0)
    >>> bool(track.weight[15] == 0.0), bool(abs(track.depth_m[15] - 8.0) < 0.1)
    (True, True)

    """
    z, sigma, t = _checked(depth_m, depth_sigma_m, timestamps_s, acceleration_sigma_m_s2)
    usable = np.isfinite(z) & np.isfinite(sigma)
    if not usable.any():
        nan = np.full(z.size, np.nan)
        return DepthTrack(
            nan, nan.copy(), nan.copy(), np.zeros(z.size), math.nan, usable, acceleration_sigma_m_s2, error=None
        )
    sigma = np.where(usable, np.maximum(sigma, MEASUREMENT_FLOOR_M), np.nan)
    weight, factor = usable.astype(np.float64), 1.0
    for _ in range(_MAX_PASSES):
        states, _, _ = _rts_smoother(z, _variance(sigma, factor, weight), t, acceleration_sigma_m_s2)
        residual_m = z - states[:, 0]
        kept = weight > 0.0
        # Never below 1: model errors only add to a solve's own standard error.
        factor = max(1.0, 1.4826 * float(np.median(np.abs(residual_m[kept] / sigma[kept]))))
        scaled = residual_m / (TUKEY_C * np.maximum(factor * sigma, MEASUREMENT_FLOOR_M))
        new_weight = np.where(usable & (np.abs(scaled) < 1.0), (1.0 - scaled**2) ** 2, 0.0)
        settled = bool(np.max(np.abs(new_weight - weight)) < _WEIGHT_TOLERANCE)
        weight = new_weight
        if settled or not (weight > 0.0).any():
            break
    if not (weight > 0.0).any():  # every measurement rejected: none stands out, so keep them all
        weight = usable.astype(np.float64)
    states, covariances, error = _rts_smoother(z, _variance(sigma, factor, weight), t, acceleration_sigma_m_s2)
    arrays = (states[:, 0], np.sqrt(np.maximum(covariances[:, 0], 0.0)), states[:, 1], weight, usable)
    for array in arrays:
        array.setflags(write=False)
    return DepthTrack(
        *arrays[:4],
        noise_factor=factor,
        offered=arrays[4],
        acceleration_sigma_m_s2=acceleration_sigma_m_s2,
        error=error,
    )


def _variance(sigma: NDArray[np.float64], factor: float, weight: NDArray[np.float64]) -> NDArray[np.float64]:
    """(T,) measurement variances, m²: the scaled standard error over the robust weight; inf where weight is 0."""
    deviation = np.maximum(factor * sigma, MEASUREMENT_FLOOR_M)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(weight > 0.0, deviation**2 / weight, np.inf)


def _checked(
    depth_m: NDArray[np.float64],
    depth_sigma_m: NDArray[np.float64],
    timestamps_s: NDArray[np.float64],
    acceleration_sigma_m_s2: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    z, sigma, t = (np.asarray(a, dtype=np.float64) for a in (depth_m, depth_sigma_m, timestamps_s))
    if not (z.ndim == 1 and z.shape == sigma.shape == t.shape):
        raise InvalidInputError(
            "depth_m, depth_sigma_m and timestamps_s must be 1-D of one length; "
            f"got shapes {z.shape}, {sigma.shape}, {t.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) > 0)):
        raise InvalidInputError("timestamps_s must be finite and strictly increasing")
    if not (math.isfinite(acceleration_sigma_m_s2) and acceleration_sigma_m_s2 > 0):
        raise InvalidInputError(f"acceleration_sigma_m_s2 must be positive, m/s²; got {acceleration_sigma_m_s2}")
    if np.any(np.isfinite(sigma) & (sigma < 0)):
        raise InvalidInputError(f"depth_sigma_m must not be negative; got minimum {np.nanmin(sigma)}")
    return z, sigma, t


def _rts_smoother(
    z: NDArray[np.float64], variance: NDArray[np.float64], t: NDArray[np.float64], acceleration_sigma: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], DepthErrorProcess]:
    """Return (T, 2) smoothed states (depth, rate), (T, 3) covariances (var depth, cov, var rate), the error process.

    The error process holds the backward-sampling gain and factor of every frame
    (:class:`~spacecomputer.domain._placement.DepthErrorProcess`).

    Frames with an infinite ``variance`` (or NaN ``z``) are predicted, not updated. Scalar arithmetic on the
    2×2 symmetric covariance: a clip of 1800 frames takes milliseconds, where NumPy calls per frame took a second.
    """
    n = z.size
    measured = np.isfinite(z) & np.isfinite(variance)
    first = int(np.flatnonzero(measured)[0])
    q = acceleration_sigma**2
    filtered = np.zeros((n, 5))  # depth, rate, var depth, cov, var rate
    predicted = np.zeros((n, 5))
    p, v, a, b, c = float(z[first]), 0.0, float(variance[first]), 0.0, _INITIAL_RATE_SIGMA_M_S**2
    for i in range(first, n):
        if i > first:
            dt = float(t[i] - t[i - 1])
            p += v * dt
            a, b, c = (
                a + 2.0 * dt * b + dt * dt * c + q * dt**4 / 4.0,
                b + dt * c + q * dt**3 / 2.0,
                c + q * dt * dt,
            )
        predicted[i] = (p, v, a, b, c)
        if i > first and measured[i]:
            innovation, total = float(z[i]) - p, a + float(variance[i])
            gain_p, gain_v = a / total, b / total
            p, v = p + gain_p * innovation, v + gain_v * innovation
            a, b, c = a - gain_p * a, b - gain_p * b, c - gain_v * b
        filtered[i] = (p, v, a, b, c)
    smoothed = filtered.copy()
    gain, factor = np.zeros((n, 2, 2)), np.zeros((n, 2, 2))
    factor[n - 1] = _cholesky(*filtered[n - 1, 2:])
    for i in range(n - 2, first - 1, -1):
        dt = float(t[i + 1] - t[i])
        fp, fv, fa, fb, fc = filtered[i]
        pp, pv, pa, pb, pc = predicted[i + 1]
        sp, sv, sa, sb, sc = smoothed[i + 1]
        det = pa * pc - pb * pb
        # Back gain G = P_f Fᵀ P_p⁻¹ with F = [[1, dt], [0, 1]].
        m00, m01, m10, m11 = fa + fb * dt, fb, fb + fc * dt, fc
        g00, g01 = (m00 * pc - m01 * pb) / det, (m01 * pa - m00 * pb) / det
        g10, g11 = (m10 * pc - m11 * pb) / det, (m11 * pa - m10 * pb) / det
        dp, dv = sp - pp, sv - pv
        da, db, dc = sa - pa, sb - pb, sc - pc
        smoothed[i, 0] = fp + g00 * dp + g01 * dv
        smoothed[i, 1] = fv + g10 * dp + g11 * dv
        # P_s = P_f + G (P_s' − P_p') Gᵀ
        h00, h01, h10, h11 = g00 * da + g01 * db, g00 * db + g01 * dc, g10 * da + g11 * db, g10 * db + g11 * dc
        smoothed[i, 2] = fa + h00 * g00 + h01 * g01
        smoothed[i, 3] = fb + h00 * g10 + h01 * g11
        smoothed[i, 4] = fc + h10 * g10 + h11 * g11
        # Backward sampling: x_i | x_{i+1} has covariance P_f − G P_p Gᵀ.
        k00, k01, k10, k11 = g00 * pa + g01 * pb, g00 * pb + g01 * pc, g10 * pa + g11 * pb, g10 * pb + g11 * pc
        gain[i] = ((g00, g01), (g10, g11))
        factor[i] = _cholesky(fa - k00 * g00 - k01 * g01, fb - k00 * g10 - k01 * g11, fc - k10 * g10 - k11 * g11)
    # Before the first measurement the model runs backwards from it at the smoothed rate.
    for i in range(first - 1, -1, -1):
        dt = float(t[i + 1] - t[i])
        p, v, a, b, c = smoothed[i + 1]
        smoothed[i] = (
            p - v * dt,
            v,
            a - 2.0 * dt * b + dt * dt * c + q * dt**4 / 4.0,
            b - dt * c - q * dt**3 / 2.0,
            c + q * dt * dt,
        )
        gain[i] = ((1.0, -dt), (0.0, 1.0))
        factor[i] = _cholesky(q * dt**4 / 4.0, -q * dt**3 / 2.0, q * dt * dt)
    return smoothed[:, :2], smoothed[:, 2:], DepthErrorProcess(gain, factor)


def _cholesky(a: float, b: float, c: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """Lower-triangular ``L`` with ``L Lᵀ = [[a, b], [b, c]]``, clipping the rounding that makes it indefinite."""
    l00 = math.sqrt(max(a, 0.0))
    l10 = b / l00 if l00 > 0.0 else 0.0
    return (l00, 0.0), (l10, math.sqrt(max(c - l10 * l10, 0.0)))
