"""How uncertain the body's placement in depth is: the smoothed depth's error as a process, and where it moves the body.

Why
---
One camera measures the athlete's distance only through the body's apparent size, and the pipeline smooths that
distance (``vision/_depth.py``) before the metric landmarks are formed. What remains is a *slow* error: its
standard deviation under the smoother's model is a tenth or two of a metre, and it changes over about a second,
the smoother's own bandwidth. It moves every landmark of a frame together, along the line of sight. The Monte
Carlo uncertainty (``biomech/_uncertainty.py``) must draw it with that size *and* that correlation in time: white
noise of the same size would be mostly removed by the landmark filter in speeds and overstate accelerations.

The error process (:class:`DepthErrorProcess`)
-----------------------------------------------
For a linear Gaussian state-space model the smoothed state's error, ``d_t = x_t − x̂_t`` with state (depth,
depth rate), is itself a Gauss–Markov process running backwards in time: given all measurements,
``x_t | x_{t+1} ~ N(m_t + G_t (x_{t+1} − p_{t+1}), P_t − G_t P⁻_{t+1} G_tᵀ)`` with the filter's mean ``m_t`` and
covariance ``P_t``, its prediction ``p_{t+1}``, ``P⁻_{t+1}`` and the Rauch–Tung–Striebel gain ``G_t``. Subtracting
the smoothed mean gives

    d_{T−1} = L_{T−1} n_{T−1},    d_t = G_t d_{t+1} + L_t n_t,    L_t L_tᵀ = P_t − G_t P⁻_{t+1} G_tᵀ,

with independent standard normal ``n_t`` (the "backward sampling" of Carter & Kohn 1994, Biometrika 81(3), and
Frühwirth-Schnatter 1994, J. Time Series Analysis 15(2)). A draw therefore has, frame by frame, exactly the
smoother's posterior standard deviation, and between frames exactly the correlation the smoother's motion model
implies — longer across a stretch without measurements, shorter where they are dense. For a steady stream of
measurements with standard deviation ``σ`` and the model's acceleration standard deviation ``σ_a`` this is
(Wiener's smoother of a doubly integrated white noise) white noise shaped by ``1 / (1 + (ω/ω_c)⁴)`` with
``ω_c = sqrt(σ_a / σ)``: autocorrelation ``e^{−a} (cos a + sin a)``, ``a = ω_c τ / √2``, first zero at
``τ = 3π / (2√2 ω_c)`` (0.58 s for 10 m/s² and 0.3 m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from spacecomputer.errors import InvalidInputError

__all__ = ["DepthErrorProcess", "PlacementUncertainty"]


@dataclass(frozen=True, eq=False)
class DepthErrorProcess:
    """The error of a smoothed depth as a backward Gauss–Markov process (module docstring).

    Parameters
    ----------
    gain
        (T, 2, 2) ``G_t`` on the state (depth error m, rate error m/s) of the next frame; zero in the last row.
    factor
        (T, 2, 2) lower-triangular ``L_t`` on two standard normals, m and m/s.

    """

    gain: NDArray[np.float64]
    factor: NDArray[np.float64]

    def __post_init__(self) -> None:
        gain, factor = (np.array(a, dtype=np.float64) for a in (self.gain, self.factor))
        if gain.ndim != 3 or gain.shape[1:] != (2, 2) or gain.shape != factor.shape or gain.shape[0] == 0:
            raise InvalidInputError(
                f"gain and factor must both be (T, 2, 2) with T >= 1; got {gain.shape} and {factor.shape}"
            )
        if not (np.isfinite(gain).all() and np.isfinite(factor).all()):
            raise InvalidInputError("gain and factor must be finite")
        for name, value in (("gain", gain), ("factor", factor)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    @property
    def n_frames(self) -> int:
        """Frames the process spans."""
        return int(self.gain.shape[0])

    @property
    def sigma_m(self) -> NDArray[np.float64]:
        """(T,) standard deviation of the depth error in each frame, m (the covariance run through the process)."""
        covariance = self.factor[-1] @ self.factor[-1].T
        variance = np.empty(self.n_frames)
        variance[-1] = covariance[0, 0]
        for t in range(self.n_frames - 2, -1, -1):
            covariance = self.gain[t] @ covariance @ self.gain[t].T + self.factor[t] @ self.factor[t].T
            variance[t] = covariance[0, 0]
        return np.asarray(np.sqrt(np.maximum(variance, 0.0)), dtype=np.float64)

    def sample_m(self, rng: np.random.Generator, *, draws: int) -> NDArray[np.float64]:
        """Draw ``draws`` depth-error series, (draws, T), m.

        Examples
        --------
        A random walk of 1 cm steps backwards in time from the last of three frames:

        >>> gain = np.tile(np.eye(2), (3, 1, 1))
        >>> factor = np.tile(np.diag([0.01, 0.0]), (3, 1, 1))
        >>> process = DepthErrorProcess(gain, factor)
        >>> process.sample_m(np.random.default_rng(0), draws=2).shape
        (2, 3)
        >>> process.sigma_m.round(4).tolist()
        [0.0173, 0.0141, 0.01]

        """
        if draws < 0:
            raise InvalidInputError(f"draws must be zero or more; got {draws}")
        # All innovations at once, then the recursion over frames for every draw together.
        innovations = np.einsum("tij,dtj->dti", self.factor, rng.standard_normal((draws, self.n_frames, 2)))
        state = np.empty((draws, self.n_frames, 2))
        state[:, -1] = innovations[:, -1]
        for t in range(self.n_frames - 2, -1, -1):
            state[:, t] = state[:, t + 1] @ self.gain[t].T + innovations[:, t]
        return np.asarray(state[..., 0], dtype=np.float64)


@dataclass(frozen=True, eq=False)
class PlacementUncertainty:
    """The slow error of the body's placement in depth, for the Monte Carlo uncertainty.

    Parameters
    ----------
    depth_error
        The smoothed depth's error process (:class:`DepthErrorProcess`), m along the camera's optical axis.
    direction
        (T, 3) displacement of every landmark of a frame per metre of depth error, in the metric sequence's frame
        (m/m): the line of sight from the camera to the athlete scaled to unit depth, so its norm is 1 / cos of
        the athlete's angle off the optical axis. NaN where the frame has no position.

    """

    depth_error: DepthErrorProcess
    direction: NDArray[np.float64]

    def __post_init__(self) -> None:
        direction = np.array(self.direction, dtype=np.float64)
        if direction.shape != (self.depth_error.n_frames, 3):
            raise InvalidInputError(
                f"direction must be (T, 3) with T = {self.depth_error.n_frames} frames of the depth error; "
                f"got {direction.shape}"
            )
        direction.setflags(write=False)
        object.__setattr__(self, "direction", direction)

    @property
    def n_frames(self) -> int:
        """Frames covered."""
        return self.depth_error.n_frames

    def sample_displacements_m(self, rng: np.random.Generator, *, draws: int) -> NDArray[np.float64]:
        """(draws, T, 3) displacements of the whole body, m; zero in frames without a position."""
        direction = np.nan_to_num(self.direction, nan=0.0)
        return np.asarray(self.depth_error.sample_m(rng, draws=draws)[..., None] * direction, dtype=np.float64)
