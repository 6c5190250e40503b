"""How the pose lab's optimiser drives SciPy's SLSQP: small first steps, then trust boxes around the best pose.

SLSQP starts its quasi-Newton approximation of the Hessian at the identity, so its first step is the whole
negative gradient (projected on the constraints). The optimiser's objective is scaled to about ±1 at the start and
changes by about that much over a fraction of a radian, so that first step would leap one to three radians across
every joint at once: far outside where the linearised foot and balance constraints hold, into poses where a free
foot has left the ground and the contacts and the ground reaction's split have switched. SLSQP's line search then
stalls there ("Iteration limit reached" with the pose unmoved, "Singular matrix E", "Positive directional
derivative"), or it ends on a pose that breaks the constraints. Two remedies, both deterministic:

- :func:`slsqp` runs SLSQP on unknowns scaled about the start, ``x = x₀ + s u``, with ``s² = min(1, FIRST_STEP /
  ‖∇f(x₀)‖∞)``: its identity start then stands for ``I / s²`` in ``x``, and its first step moves no unknown by more
  than :data:`FIRST_STEP`. The quasi-Newton updates learn the true curvature from there. Only the step geometry
  changes: the objective, the constraints, the bounds and SLSQP's tolerance on the objective are the problem's.
  Every point SLSQP asks about is clipped into the bounds first (it can step a hair outside them), so no pose it
  visits leaves the joint limits.
- :func:`minimise`: when SLSQP ends without converging to a pose that meets the constraints, the search goes on
  from the best such pose visited, in rounds of at most :data:`ROUND_ITERATIONS` iterations, each bounded by a box
  of ±Δ around that pose (a trust region; Δ starts at :data:`TRUST_BOX`). A round that improves on the best pose by
  more than SLSQP's tolerance moves the box there (twice as large when the round ended on its edge, up to
  :data:`LARGEST_BOX`); one that does not shrinks Δ fourfold. It stops when a round converges inside its box (a
  local optimum), when Δ falls below :data:`SMALLEST_BOX` (no pose that near the best one improves on it), or when
  the iterations are spent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, minimize

from spacecomputer.biomech.solver._optimise_eval import Evaluator

__all__ = [
    "FIRST_STEP",
    "LARGEST_BOX",
    "ROUND_ITERATIONS",
    "SMALLEST_BOX",
    "TRUST_BOX",
    "Constraint",
    "Found",
    "minimise",
    "slsqp",
]

Array = NDArray[np.float64]
FIRST_STEP = 0.05
"""Largest change of an unknown in SLSQP's first step, rad (m for the pelvis position; our own, about 3°: on the
hardest standing frames of the sample 0.05, 0.1 and 0.2 rad all stopped the stalls; 0.05 converges close enough
for the analytic optima of the tests, where 0.1 stops 0.06° short of one)."""
TRUST_BOX = 0.25
"""Half-width Δ of the first trust box, rad (m for the pelvis position; our own)."""
LARGEST_BOX = 2.0
"""Largest half-width a trust box grows to, rad (our own: beyond every joint's range)."""
SMALLEST_BOX = 1e-3
"""A trust box this small (rad, about 0.06°) in which nothing improves ends the search (our own)."""
ROUND_ITERATIONS = 30
"""Most SLSQP iterations of one trust-box round (our own)."""
_EDGE = 1e-7


@dataclass(frozen=True)
class Constraint:
    """One block of constraint rows in the unknowns ``x``: values (``= 0`` or ``≥ 0``) and their Jacobian."""

    kind: Literal["eq", "ineq"]
    fun: Callable[[Array], Array]
    jac: Callable[[Array], Array]


@dataclass(frozen=True)
class Found:
    """A search's outcome: its pose's unknowns, iterations, what happened in words, and whether it converged."""

    x: Array
    iterations: int
    message: str
    converged: bool


def slsqp(
    fun: Callable[[Array], float],
    jac: Callable[[Array], Array],
    x0: Array,
    bounds: Bounds,
    constraints: Sequence[Constraint],
    *,
    max_iterations: int,
    tolerance: float,
) -> Found:
    """Minimise ``fun`` from ``x0`` under ``bounds`` and ``constraints`` with SLSQP on scaled unknowns (module doc).

    Parameters
    ----------
    fun, jac
        The objective and its gradient, functions of ``x``.
    x0
        The start, within ``bounds``.
    bounds, constraints
        Bounds and constraint blocks in ``x``.
    max_iterations, tolerance
        SLSQP's ``maxiter`` and ``ftol`` (on ``fun``, which the scaling leaves as it is).

    """
    lower, upper = np.asarray(bounds.lb, dtype=np.float64), np.asarray(bounds.ub, dtype=np.float64)
    slope = float(np.abs(jac(x0)).max(initial=0.0))
    scale = math.sqrt(min(1.0, FIRST_STEP / slope)) if slope > 0 else 1.0

    def x_of(u: Array) -> Array:
        return np.asarray(np.clip(x0 + scale * np.asarray(u, dtype=np.float64), lower, upper), dtype=np.float64)

    def scaled(c: Constraint) -> dict[str, object]:
        return {"type": c.kind, "fun": lambda u: c.fun(x_of(u)), "jac": lambda u: scale * c.jac(x_of(u))}

    found = minimize(
        lambda u: fun(x_of(u)),
        np.zeros_like(x0),
        jac=lambda u: scale * jac(x_of(u)),
        bounds=Bounds((lower - x0) / scale, (upper - x0) / scale),
        constraints=[scaled(c) for c in constraints],
        method="SLSQP",
        options={"maxiter": max_iterations, "ftol": tolerance},
    )
    return Found(x_of(found.x), int(found.nit), str(found.message), bool(found.success))


def minimise(
    evaluator: Evaluator,
    bounds: Bounds,
    constraints: Sequence[Constraint],
    *,
    max_iterations: int,
    tolerance: float,
) -> Found:
    """Minimise the evaluator's cost from its start: SLSQP, then trust boxes around the best pose (module doc).

    SLSQP gets ``max_iterations``, the trust boxes as many again. The result is SLSQP's end when it converged to a
    pose that meets the constraints (within :data:`~spacecomputer.biomech.solver._optimise_eval
    .FEASIBILITY_TOLERANCE_M`), else where the trust boxes ended; when no pose visited met the constraints, SLSQP's
    end.
    """

    def cost(x: Array) -> float:
        return evaluator.at(x).cost

    def gradient(x: Array) -> Array:
        return evaluator.at(x).gradient

    found = slsqp(cost, gradient, evaluator.x0, bounds, constraints, max_iterations=max_iterations, tolerance=tolerance)
    centre = evaluator.best
    if (found.converged and evaluator.at(found.x).feasible) or centre is None:
        return found
    iterations, box, message = found.iterations, TRUST_BOX, f"SLSQP: {found.message}"
    while iterations < 2 * max_iterations:
        x = centre.q[:, evaluator.free].ravel()
        lower, upper = np.maximum(bounds.lb, x - box), np.minimum(bounds.ub, x + box)
        budget = min(ROUND_ITERATIONS, 2 * max_iterations - iterations)
        found = slsqp(cost, gradient, x, Bounds(lower, upper), constraints, max_iterations=budget, tolerance=tolerance)
        iterations += found.iterations
        inner = (lower > bounds.lb) & (np.abs(found.x - lower) <= _EDGE)
        edge = bool((inner | ((upper < bounds.ub) & (np.abs(found.x - upper) <= _EDGE))).any())
        if found.converged and not edge and evaluator.at(found.x).feasible:
            return Found(found.x, iterations, f"{message}; then converged in a trust box of ±{box:.2g}", True)
        best = evaluator.best or centre
        if centre.cost - best.cost > tolerance:
            centre, box = best, min(2.0 * box, LARGEST_BOX) if edge else box
        else:
            box /= 4.0
            if box < SMALLEST_BOX:
                message += f"; then no pose within ±{SMALLEST_BOX:g} of the best one visited improves it"
                return Found(best.q[:, evaluator.free].ravel(), iterations, message, False)
    best = evaluator.best or centre
    return Found(
        best.q[:, evaluator.free].ravel(), iterations, f"{message}; then the iteration limit in trust boxes", False
    )
