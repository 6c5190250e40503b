"""Uncertainty of every reported scalar, by perturbing the landmarks and re-running the whole engine.

Noise model (our own; the numbers it starts from are measured on the run itself)
--------------------------------------------------------------------------------
1. *Jitter.* The pipeline's low-pass filter removes the landmarks' frame-to-frame jitter; the residual
   ``r_tj`` = raw − smoothed metric position measures it. It has two parts:

   - a *common* displacement ``c_t``, the mean of ``r_tj`` over the frame's landmarks: the jitter of the
     body's placement in space (per-frame translation, monocular depth above all), which moves every
     landmark together and so is not averaged away in the centre of mass; its 3×3 covariance ``C``;
   - each landmark's *own* jitter ``r_tj − c_t``, whose RMS over frames and axes is ``r_j``.

   If the raw noise is white, the filter (cut-off ``f_c`` at sampling rate ``f_s``) removes the share
   ``1 − 2 f_c / f_s`` of its variance, so both are divided by that share: ``σ_j² = r_j² / (1 − 2 f_c/f_s)``
   and likewise ``C``.
2. *Visibility.* In a frame where BlazePose reports visibility ``v`` for the landmark, its own standard
   deviation is ``σ_j / max(v, v_min)`` (``v_min`` = 0.25): a half-visible landmark is twice as uncertain.
3. *Draws.* Each draw adds to every landmark white Gaussian noise with its own per-frame standard deviation
   plus one common Gaussian displacement per frame with covariance ``C``, passes the sum through the same
   zero-phase low-pass as the data (the part of the noise the pipeline could not remove), and re-runs
   :func:`~spacecomputer.biomech._engine.evaluate` — events, kinetics and all. The uncertainty of a scalar
   is the sample standard deviation of its values over the draws in which it was available (at least
   :data:`MIN_DRAWS_FOR_SPREAD` of them); the reported value is the unperturbed one.
4. *Depth placement.* The pipeline smooths the body's depth before the metric landmarks are formed, so its slow
   error is not in raw − smoothed: the common displacement of step 1 holds the lateral and vertical placement jitter
   and what little depth jitter is left above the filter's cut-off. When the run has a
   :class:`~spacecomputer.domain._placement.PlacementUncertainty`, each draw also moves every landmark of a frame by
   one draw of the depth smoother's own error process along the line of sight. That process is drawn, not modelled
   as white noise, because the error *is* slow: the smoother's posterior in every frame (standard deviation and
   correlation between frames, :mod:`spacecomputer.domain._placement`). White noise of the same size would
   misrepresent it: what the low-pass leaves of it varies at up to the cut-off, so it would overstate speeds (about
   twice on the sample) and accelerations far more. The draw is added before the low-pass, as the real error is, and
   it passes the filter (cut-off far above its ~1 Hz bandwidth) almost unchanged. The two parts do not overlap: the
   depth error's spectrum falls as f⁻⁴ above the smoother's bandwidth, so at the filter's cut-off it is about a
   thousandth of its level below 1 Hz, which is all the residual of step 1 could have seen of it. Its draws come
   from a generator of their own, so the landmark noise of a draw is the same with and without it.

What it does not cover: errors that do not change from frame to frame — monocular depth bias, a wrong
height or mass, the body model's own assumptions. The ± is the spread caused by the measured landmark noise
and the depth smoother's modelled error, not a bound on the total error; ``docs/biomechanics.md`` says so too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt

from spacecomputer.domain import PoseSequence
from spacecomputer.domain._placement import PlacementUncertainty
from spacecomputer.errors import InvalidInputError, SpaceComputerError

__all__ = [
    "DEFAULT_LANDMARK_SIGMA_M",
    "MIN_DRAWS_FOR_SPREAD",
    "VISIBILITY_FLOOR",
    "DrawSpread",
    "LandmarkNoise",
    "format_measurement",
    "landmark_noise",
    "monte_carlo_spread",
]

VISIBILITY_FLOOR = 0.25
"""Lowest visibility used to scale a landmark's noise (our own choice: at most four times the jitter)."""
DEFAULT_LANDMARK_SIGMA_M = 0.01
"""Landmark noise assumed when no raw sequence is available to measure it, m (our own choice)."""
MIN_DRAWS_FOR_SPREAD = 3
"""Fewest draws with a value before a standard deviation is reported."""
_FILTER_ORDER = 4


@dataclass(frozen=True, eq=False)
class LandmarkNoise:
    """The noise model of one run (module docstring).

    Attributes
    ----------
    sigma_m
        (T, J) standard deviation per axis of each landmark's own noise in each frame, m; NaN where missing.
    common_covariance_m2
        (3, 3) covariance of the displacement shared by all landmarks of a frame (the jitter of the body's
        placement in space: monocular depth above all), m², in the sequence's frame.
    measured
        Whether both were measured on a raw sequence (else :data:`DEFAULT_LANDMARK_SIGMA_M` and no common part).

    """

    sigma_m: NDArray[np.float64]
    common_covariance_m2: NDArray[np.float64]
    measured: bool

    @property
    def common_sigma_m(self) -> NDArray[np.float64]:
        """(3,) standard deviation of the common displacement along each axis of the frame, m."""
        return np.asarray(np.sqrt(np.clip(np.diag(self.common_covariance_m2), 0.0, None)), dtype=np.float64)


def landmark_noise(raw: PoseSequence | None, smoothed: PoseSequence, *, cutoff_hz: float | None) -> LandmarkNoise:
    """Measure the noise model on the raw and smoothed metric sequences (module docstring).

    ``raw`` is the metric sequence before the low-pass, on the same frames as ``smoothed``; without it,
    :data:`DEFAULT_LANDMARK_SIGMA_M` stands in for the measured jitter and there is no common part.

    Raises
    ------
    InvalidInputError
        ``raw`` and ``smoothed`` differ in shape, or the cut-off is not below the Nyquist frequency.

    """
    n_joints = smoothed.positions.shape[1]
    common = np.zeros((3, 3))
    if raw is None:
        jitter = np.full(n_joints, DEFAULT_LANDMARK_SIGMA_M)
    else:
        if raw.positions.shape != smoothed.positions.shape:
            raise InvalidInputError(
                f"raw and smoothed sequences differ in shape: {raw.positions.shape} vs {smoothed.positions.shape}"
            )
        residual = raw.positions - smoothed.positions
        seen = np.asarray(np.isfinite(residual).all(axis=2))
        zeroed = np.where(seen[..., None], residual, 0.0)
        per_frame = seen.sum(axis=1)
        shared = zeroed.sum(axis=1) / np.maximum(per_frame, 1)[:, None]
        enough = per_frame >= max(1, n_joints // 2)
        removed_share = 1.0 - _passband_share(cutoff_hz, smoothed.fps)
        if enough.sum() >= MIN_DRAWS_FOR_SPREAD:
            common = np.cov(shared[enough], rowvar=False) / max(removed_share, 1e-6)
        own = np.where(seen[..., None], zeroed - shared[:, None, :], 0.0)
        counts = seen.sum(axis=0) * 3
        jitter = np.asarray(np.sqrt((own**2).sum(axis=(0, 2)) / np.maximum(counts, 1)), dtype=np.float64)
        jitter = jitter / np.sqrt(max(removed_share, 1e-6))
        jitter[counts == 0] = DEFAULT_LANDMARK_SIGMA_M
    visibility = np.where(np.isfinite(smoothed.confidence), smoothed.confidence, 0.0)
    sigma = jitter[None, :] / np.maximum(visibility, VISIBILITY_FLOOR)
    sigma[~np.isfinite(smoothed.positions).all(axis=2)] = np.nan
    return LandmarkNoise(
        sigma_m=np.asarray(sigma, dtype=np.float64),
        common_covariance_m2=np.asarray(common, dtype=np.float64).reshape(3, 3),
        measured=raw is not None,
    )


def _passband_share(cutoff_hz: float | None, fps: float) -> float:
    """Share of white noise's variance a low-pass at ``cutoff_hz`` keeps (no filter: the residual is all noise)."""
    if cutoff_hz is None:
        return 0.0
    if not 0 < cutoff_hz < fps / 2:
        raise InvalidInputError(f"cutoff must be between 0 and the Nyquist frequency {fps / 2} Hz; got {cutoff_hz}")
    return 2.0 * cutoff_hz / fps


@dataclass(frozen=True)
class DrawSpread:
    """Values of every scalar over the Monte Carlo draws."""

    draws: int
    failed_draws: int
    values: dict[str, list[float]]

    def std(self, name: str) -> float | None:
        """Sample standard deviation of ``name`` over the draws where it was available, or ``None``."""
        values = self.values.get(name, [])
        if len(values) < MIN_DRAWS_FOR_SPREAD:
            return None
        return float(np.std(values, ddof=1))


def monte_carlo_spread(
    sequence: PoseSequence,
    noise_model: LandmarkNoise,
    scalars_of: Callable[[PoseSequence], dict[str, float | None]],
    *,
    draws: int,
    seed: int,
    cutoff_hz: float | None,
    placement: PlacementUncertainty | None = None,
) -> DrawSpread:
    """Re-run ``scalars_of`` on ``draws`` perturbed copies of ``sequence`` and collect the values by name.

    ``placement`` adds the depth smoother's error to every draw (module docstring, step 4); ``None`` leaves the
    draws exactly as without it. A draw whose computation raises one of our typed errors is counted in
    ``failed_draws`` and skipped.

    Raises
    ------
    InvalidInputError
        ``draws`` is negative, or ``placement`` covers another number of frames than ``sequence``.

    """
    if draws < 0:
        raise InvalidInputError(f"draws must be zero or more; got {draws}")
    if placement is not None and placement.n_frames != sequence.n_frames:
        raise InvalidInputError(
            f"placement uncertainty covers {placement.n_frames} frames, the sequence {sequence.n_frames}"
        )
    rng = np.random.default_rng(seed)
    placement_draws = (
        None
        if placement is None
        else placement.sample_displacements_m(np.random.default_rng([seed, 1]), draws=draws).astype(np.float32)
    )
    noise_sigma = np.where(np.isfinite(noise_model.sigma_m), noise_model.sigma_m, 0.0)[..., None].astype(np.float32)
    # Common displacements with covariance C: standard normals times a factor L with L Lᵀ = C (eigen, as C may be
    # singular), as rows: z Lᵀ.
    eigenvalues, eigenvectors = np.linalg.eigh(noise_model.common_covariance_m2)
    common_factor = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))).T.astype(np.float32)
    n_frames = sequence.n_frames
    sos = None
    if cutoff_hz is not None and 0 < cutoff_hz < sequence.fps / 2:
        sos = butter(_FILTER_ORDER, cutoff_hz, btype="low", fs=sequence.fps, output="sos")
    pad = 3 * (2 * _FILTER_ORDER + 1)
    values: dict[str, list[float]] = {}
    failed = 0
    for draw in range(draws):
        noise = rng.standard_normal(sequence.positions.shape, dtype=np.float32) * noise_sigma
        noise += (rng.standard_normal((n_frames, 3), dtype=np.float32) @ common_factor)[:, None, :]
        if placement_draws is not None:
            noise += placement_draws[draw][:, None, :]
        if sos is not None and sequence.n_frames > pad:
            noise = sosfiltfilt(sos, noise, axis=0)
        perturbed = sequence.replace(positions=sequence.positions + noise)
        try:
            result = scalars_of(perturbed)
        except SpaceComputerError:
            failed += 1
            continue
        for name, value in result.items():
            if value is not None and np.isfinite(value):
                values.setdefault(name, []).append(float(value))
    return DrawSpread(draws=draws, failed_draws=failed, values=values)


def format_measurement(value: float | None, uncertainty: float | None, unit: str) -> str:
    """Print a value with its uncertainty, rounded to the uncertainty's second significant digit.

    Examples
    --------
    >>> format_measurement(38.234, 4.06, "deg")
    '38.2° ± 4.1°'
    >>> format_measurement(1.23456, None, "m")
    '1.235 m'
    >>> format_measurement(None, None, "m")
    'unavailable'

    """
    if value is None:
        return "unavailable"
    if uncertainty is not None and uncertainty > 0:
        decimals = int(min(4, max(0, 1 - np.floor(np.log10(uncertainty)))))
    else:
        magnitude = abs(value)
        decimals = 3 if magnitude < 10 else 1 if magnitude < 1000 else 0
    suffix = "°" if unit == "deg" else f" {unit}"
    text = f"{value:.{decimals}f}{suffix}"
    if uncertainty is not None:
        text += f" ± {uncertainty:.{decimals}f}{suffix}"
    return text
