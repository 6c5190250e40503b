"""Inverse kinematics of many frames at once: the skeleton fitted to every frame by one batched least squares.

The objective is :func:`~spacecomputer.biomech.solver._fit.fit_landmarks`'s, per frame: the weighted squared
distances between the skeleton's points and the landmarks, plus a weak pull of the angles towards the start read
off the landmarks (:data:`~spacecomputer.biomech.solver._fit.FIT_REGULARISATION`), within the joint limits.

The frames are solved together by the projected Levenberg–Marquardt iteration of :mod:`._lm` (one vectorised
skeleton evaluation per iteration for all frames still iterating, each with its own damping: 2–7 ms a frame, where
one ``scipy.optimize.least_squares`` call per frame took 18 ms). A frame stops when a taken step lowers its cost by
less than :data:`RELATIVE_TOLERANCE`, when its step is below :data:`STEP_TOLERANCE`, or after
:data:`MAX_ITERATIONS`.

Consecutive frames (``consecutive=True``): each frame is solved on its own, and where two skeleton poses fit it
about equally (a straight arm's axial rotation, a joint at its limit) neighbouring frames can land on different
ones — a jump that the kinetics read as an acceleration (on the sample clip: 6 frames above 10 g). A frame whose
angles jump from a neighbour's by more than :data:`NEIGHBOUR_JUMP_RAD` is therefore solved again from the
previous frame's solution, then from the next one's, and keeps the lowest cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech.solver._dofs import ANGULAR_DOFS, DOF_NAMES, JOINT_INDEX
from spacecomputer.biomech.solver._lm import solve_batch
from spacecomputer.domain import BLAZEPOSE_33

if TYPE_CHECKING:
    from spacecomputer.biomech.solver._skeleton import SkeletonModel

__all__ = ["FIT_REGULARISATION", "FrameFits", "landmark_point_weights", "solve_frames"]

FIT_REGULARISATION = 1e-3
"""Weight of the angles' departure from those read off the landmarks, m per rad (our own): it settles what the
landmarks do not fix, such as the arm's axial rotation with a straight elbow. On every fifth frame of the sample
run it left the median RMS residual unchanged (19.2 mm) and raised it by 0.4 mm at most."""

RELATIVE_TOLERANCE = 1e-8
"""A frame stops when a taken step lowers its cost by less than this fraction (our choice: on the sample clip the
leg angles move by less than 0.01° from a 1e-10 tolerance, at 80 % of its time; at 1e-6 by up to 0.5°)."""
STEP_TOLERANCE = 1e-10
"""A frame stops when no coordinate moves by more than this (m or rad)."""
MAX_ITERATIONS = 200
_BOUND_MARGIN = 1e-9
NEIGHBOUR_JUMP_RAD = float(np.radians(20.0))
"""A consecutive frame whose angles differ from a neighbour's by more than this is solved again from the
neighbour's solution (our choice: above what a joint turns in one frame at 30 fps in most sports motion, well
below the jump between two mirror-image solutions of a straight limb)."""
_ANGLES = np.array([name in ANGULAR_DOFS for name in DOF_NAMES])
BLOCK_FRAMES = 512
"""Frames solved together (bounds memory: a block's Jacobian probes take about 18 MB)."""


@dataclass(frozen=True, eq=False)
class FrameFits:
    """Result of :func:`solve_frames`.

    Attributes
    ----------
    q
        (N, D) fitted coordinates, m and rad, within the joint limits.
    distance_m
        (N, P) distance between each fitted point (``point_names``) and its landmark, m; NaN where the landmark
        is missing.
    point_names
        The fitted points, in the order of ``distance_m``'s columns.
    at_limits
        (N, D) whether each coordinate ended on a bound of its range.
    iterations
        (N,) iterations each frame took.
    converged
        (N,) whether each frame met a stopping tolerance before :data:`MAX_ITERATIONS`.

    """

    q: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    point_names: tuple[str, ...]
    at_limits: NDArray[np.bool_]
    iterations: NDArray[np.int64]
    converged: NDArray[np.bool_]

    @property
    def residual_rms_m(self) -> NDArray[np.float64]:
        """(N,) root mean square of each frame's distances over its seen points, m (NaN: frame not fitted)."""
        seen = np.isfinite(self.distance_m)
        squares = np.where(seen, self.distance_m, 0.0) ** 2
        count = seen.sum(axis=1)
        rms = np.sqrt(squares.sum(axis=1) / np.maximum(count, 1))
        return np.asarray(np.where(count > 0, rms, np.nan), dtype=np.float64)

    @property
    def residual_max_m(self) -> NDArray[np.float64]:
        """(N,) largest distance of each frame, m (NaN: frame not fitted)."""
        seen = np.isfinite(self.distance_m)
        largest = np.where(seen, self.distance_m, -np.inf).max(axis=1, initial=-np.inf)
        return np.asarray(np.where(seen.any(axis=1), largest, np.nan), dtype=np.float64)


def solve_frames(
    model: SkeletonModel,
    targets: dict[str, NDArray[np.float64]],
    point_weights: dict[str, NDArray[np.float64]],
    start: NDArray[np.float64],
    *,
    consecutive: bool = False,
) -> FrameFits:
    """Fit the skeleton to N frames at once (method: module docstring).

    Parameters
    ----------
    model
        The subject's skeleton.
    targets
        Point name → (N, 3) landmark positions in the model's frame, m (NaN where missing: the point is not fitted
        in that frame).
    point_weights
        Point name → (N,) non-negative weights.
    start
        (N, D) starting coordinates (also what the angles are pulled towards), within the bounds.
    consecutive
        The frames follow each other in time: a frame whose solution jumps from a neighbour's by more than
        :data:`NEIGHBOUR_JUMP_RAD` is solved again from that neighbour's solution, and the lower cost is kept.

    """
    names = tuple(targets)
    every = np.arange(start.shape[0])
    q, cost, iterations, converged = _solve(model, targets, point_weights, start, start, every)
    if consecutive and start.shape[0] > 1:
        lower, upper = model.bounds()
        for neighbour in (np.maximum(every - 1, 0), np.minimum(every + 1, every.size - 1)):
            jump = np.abs(q - q[neighbour])[:, _ANGLES].max(axis=1)
            rows = np.flatnonzero((jump > NEIGHBOUR_JUMP_RAD) & (neighbour != every))
            if not rows.size:
                continue
            initial = np.clip(q[neighbour[rows]], lower + _BOUND_MARGIN, upper - _BOUND_MARGIN)
            again, again_cost, again_iterations, again_converged = _solve(
                model, targets, point_weights, start, initial, rows
            )
            better = again_cost < cost[rows]
            chosen = rows[better]
            q[chosen], cost[chosen] = again[better], again_cost[better]
            iterations[rows] += again_iterations
            converged[chosen] = again_converged[better]
    distance = np.empty((start.shape[0], len(names)))
    for first in range(0, every.size, BLOCK_FRAMES):
        block = slice(first, first + BLOCK_FRAMES)
        distance[block] = _Problem(
            model,
            {k: v[block] for k, v in targets.items()},
            {k: v[block] for k, v in point_weights.items()},
            start[block],
        ).distances(q[block])
    lower, upper = model.bounds()
    near = np.isclose(q, lower, rtol=0.0, atol=1e-7) | np.isclose(q, upper, rtol=0.0, atol=1e-7)
    return FrameFits(
        q=q,
        distance_m=distance,
        point_names=names,
        at_limits=near & np.isfinite(lower),
        iterations=iterations,
        converged=converged,
    )


def _solve(
    model: SkeletonModel,
    targets: dict[str, NDArray[np.float64]],
    point_weights: dict[str, NDArray[np.float64]],
    start: NDArray[np.float64],
    initial: NDArray[np.float64],
    rows: NDArray[np.intp],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
    """Solve the frames ``rows`` from ``initial`` (one row per frame of ``rows``), block by block."""
    q = np.empty((rows.size, start.shape[1]))
    cost = np.empty(rows.size)
    iterations = np.empty(rows.size, dtype=np.int64)
    converged = np.empty(rows.size, dtype=bool)
    for first in range(0, rows.size, BLOCK_FRAMES):
        block = slice(first, first + BLOCK_FRAMES)
        chosen = rows[block]
        problem = _Problem(
            model,
            {k: v[chosen] for k, v in targets.items()},
            {k: v[chosen] for k, v in point_weights.items()},
            start[chosen],
        )
        q[block], cost[block], iterations[block], converged[block] = problem.solve(initial[block])
    return q, cost, iterations, converged


class _Problem:
    """One block of frames: their residuals, distances and solution."""

    def __init__(
        self,
        model: SkeletonModel,
        targets: dict[str, NDArray[np.float64]],
        point_weights: dict[str, NDArray[np.float64]],
        start: NDArray[np.float64],
    ) -> None:
        self.model = model
        self.rows = np.array([JOINT_INDEX[name] for name in targets])
        stacked = np.stack(list(targets.values()), axis=1)
        self.seen: NDArray[np.bool_] = np.asarray(np.isfinite(stacked).all(axis=2))
        self.target = np.where(self.seen[..., None], stacked, 0.0)
        weights = np.stack([point_weights[name] for name in targets], axis=1)
        self.scale = np.repeat(np.where(self.seen, np.sqrt(weights), 0.0)[..., None], 3, axis=2).reshape(
            start.shape[0], -1
        )
        self.start = start
        self.pull = _regularisation()
        self.lower, self.upper = model.bounds()

    def distances(self, q: NDArray[np.float64]) -> NDArray[np.float64]:
        gap = self.model._points(q)[:, self.rows] - self.target
        return np.where(self.seen, np.sqrt((gap**2).sum(axis=2)), np.nan)

    def residual(self, q: NDArray[np.float64], frames: NDArray[np.intp]) -> NDArray[np.float64]:
        gap = (self.model._points(q)[:, self.rows] - self.target[frames]).reshape(frames.size, -1)
        return np.concatenate([self.scale[frames] * gap, self.pull * (q - self.start[frames])], axis=1)

    def solve(
        self, initial: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.bool_]]:
        solution = solve_batch(
            self.residual,
            initial,
            self.lower,
            self.upper,
            relative_tolerance=RELATIVE_TOLERANCE,
            step_tolerance=STEP_TOLERANCE,
            max_iterations=MAX_ITERATIONS,
        )
        return solution.x, solution.cost, solution.iterations, solution.converged


def _regularisation() -> NDArray[np.float64]:
    return FIT_REGULARISATION * np.array([name in ANGULAR_DOFS for name in DOF_NAMES], dtype=np.float64)


def landmark_point_weights(weights: NDArray[np.float64], names: tuple[str, ...]) -> dict[str, NDArray[np.float64]]:
    """(N, 33) per-landmark weights → per fitted point (a hand's knuckle point: mean of its index and pinky)."""
    out = {}
    for name in names:
        if name.endswith("_hand"):
            side = name.removesuffix("_hand")
            fingers = [weights[:, BLAZEPOSE_33.index(f"{side}_{finger}")] for finger in ("index", "pinky")]
            out[name] = 0.5 * (fingers[0] + fingers[1])
        else:
            out[name] = weights[:, BLAZEPOSE_33.index(name)]
    return out
