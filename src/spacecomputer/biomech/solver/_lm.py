"""Bounded least squares for many small problems at once: a projected Levenberg–Marquardt iteration.

Each problem ``i`` minimises ``½ |r_i(x_i)|²`` over ``x_i`` within the box ``lower ≤ x ≤ upper``. Every iteration
evaluates the residuals (and their Jacobians, by central differences) of all problems still iterating in one
vectorised call, and each problem keeps its own damping (after a refused step only the damping changes: the Jacobian
is kept). A problem solves ``(JᵀJ + λ·diag(JᵀJ)) δ = −Jᵀr``
(Marquardt's scaling) over its free parameters — a parameter on a bound whose gradient pushes it outwards is held
there — and moves to ``clip(x + δ)``. A step that does not raise the cost is taken and λ divided by
:data:`DAMPING_FACTOR`; otherwise λ is multiplied by it. A problem stops when a taken step lowers its cost by less
than ``relative_tolerance`` of it, when its step is below ``step_tolerance``, when λ exceeds :data:`MAX_DAMPING`, or
after ``max_iterations``.

Used for the skeleton's fit to many frames (:mod:`._fit_batch`) and for the pose lab's edits (:mod:`._ik`).
``scipy.optimize.least_squares`` solves one problem per call: one call per frame took 18 ms a frame on the sample
clip's 222 frames (each Jacobian is 60 small skeleton evaluations, dominated by numpy's per-call overhead), all
frames as one problem with a block-sparse Jacobian 60 ms a frame (one trust region for all), against 2–7 ms here;
on the pose lab's small edits (2 to 13 parameters) it took 20 to 40 evaluations near active bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["DAMPING_FACTOR", "MAX_DAMPING", "BatchSolution", "Residuals", "solve_batch"]

Residuals = Callable[[NDArray[np.float64], NDArray[np.intp]], NDArray[np.float64]]
"""``residuals(x, problems)``: (m, k) parameters of the problems numbered ``problems`` (m,) → (m, r) residuals."""

INITIAL_DAMPING = 1e-3
DAMPING_FACTOR = 5.0
MAX_DAMPING = 1e10
"""A problem stops when its damping exceeds this: no step that lowers its cost can be found."""
_MIN_DAMPING = 1e-7
_MIN_CURVATURE = 1e-6
"""Floor of diag(JᵀJ) in the damping, so that a parameter no residual moves is still damped."""


@dataclass(frozen=True, eq=False)
class BatchSolution:
    """Result of :func:`solve_batch`: (n, k) parameters, (n,) costs ``½|r|²``, iterations and convergence."""

    x: NDArray[np.float64]
    cost: NDArray[np.float64]
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]


def solve_batch(
    residuals: Residuals,
    initial: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    *,
    relative_tolerance: float,
    step_tolerance: float,
    max_iterations: int,
    difference_step: float = 1e-6,
) -> BatchSolution:
    """Solve n bounded least-squares problems from ``initial`` (n, k) (method: module docstring)."""
    n, k = initial.shape
    x = np.clip(initial, lower, upper)
    r = residuals(x, np.arange(n))
    cost = 0.5 * (r**2).sum(axis=1)
    damping = np.full(n, INITIAL_DAMPING)
    iterations = np.zeros(n, dtype=np.int64)
    active = np.ones(n, dtype=bool)
    converged = np.zeros(n, dtype=bool)
    identity = np.eye(k, dtype=bool)
    all_gradients, all_normals = np.zeros((n, k)), np.zeros((n, k, k))
    stale = np.ones(n, dtype=bool)  # the Jacobian is recomputed only after a taken step
    while active.any():
        problems = np.flatnonzero(active)
        fresh = problems[stale[problems]]
        if fresh.size:
            jac = _jacobian(residuals, x[fresh], fresh, difference_step)
            all_gradients[fresh] = np.einsum("nrd,nr->nd", jac, r[fresh])
            all_normals[fresh] = np.einsum("nrd,nre->nde", jac, jac)
            stale[fresh] = False
        xs, rs = x[problems], r[problems]
        gradient, normal = all_gradients[problems], all_normals[problems]
        free = ~(((xs <= lower) & (gradient > 0)) | ((xs >= upper) & (gradient < 0)))
        curvature = np.maximum(np.einsum("ndd->nd", normal), _MIN_CURVATURE)
        system = normal + (damping[problems, None] * curvature)[:, :, None] * identity
        system = np.where((free[:, :, None] & free[:, None, :]) | identity, system, 0.0)
        step = np.linalg.solve(system, np.where(free, -gradient, 0.0)[..., None])[..., 0]
        trial = np.clip(xs + step, lower, upper)
        trial_r = residuals(trial, problems)
        trial_cost = 0.5 * (trial_r**2).sum(axis=1)
        taken = trial_cost <= cost[problems]
        gain = (cost[problems] - trial_cost) / np.maximum(cost[problems], np.finfo(float).tiny)
        x[problems] = np.where(taken[:, None], trial, xs)
        r[problems] = np.where(taken[:, None], trial_r, rs)
        cost[problems] = np.where(taken, trial_cost, cost[problems])
        damping[problems] = np.where(
            taken, np.maximum(damping[problems] / DAMPING_FACTOR, _MIN_DAMPING), damping[problems] * DAMPING_FACTOR
        )
        stale[problems[taken]] = True
        iterations[problems] += 1
        moved = np.abs(trial - xs).max(axis=1)
        done = (taken & (gain < relative_tolerance)) | (moved < step_tolerance) | (damping[problems] > MAX_DAMPING)
        converged[problems[done]] = True
        active[problems[done | (iterations[problems] >= max_iterations)]] = False
    return BatchSolution(x=x, cost=cost, iterations=iterations, converged=converged)


def _jacobian(
    residuals: Residuals, x: NDArray[np.float64], problems: NDArray[np.intp], step: float
) -> NDArray[np.float64]:
    """(m, r, k) Jacobians of the problems' residuals at ``x`` (central differences, one batched call)."""
    m, k = x.shape
    offsets = step * np.eye(k)
    probes = np.concatenate([x[:, None] + offsets, x[:, None] - offsets], axis=1).reshape(-1, k)
    moved = residuals(probes, np.repeat(problems, 2 * k)).reshape(m, 2, k, -1)
    return np.transpose((moved[:, 0] - moved[:, 1]) / (2 * step), (0, 2, 1))
