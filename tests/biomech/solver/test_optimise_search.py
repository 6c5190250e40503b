"""How the optimiser drives SLSQP: a first step no longer than FIRST_STEP, every point asked about within bounds."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import Bounds, minimize

from spacecomputer.biomech.solver._optimise_search import FIRST_STEP, Constraint, slsqp

Array = NDArray[np.float64]
SLOPE = np.array([4.0, -2.0, 1.0, -0.5, 0.0])  # a linear objective as steep as the pose costs at the start


def test_the_first_step_moves_no_unknown_by_more_than_first_step() -> None:
    """Plain SLSQP's first step on a slope of 4 per unit runs to the bounds, 3 units away; ours stops at FIRST_STEP
    along the steepest unknown (the quasi-Newton start is I / s² in x) and in proportion along the others."""
    bounds = Bounds(np.full(5, -3.0), np.full(5, 3.0))
    x0 = np.zeros(5)
    plain = minimize(
        lambda x: float(SLOPE @ x), x0, jac=lambda x: SLOPE, bounds=bounds, method="SLSQP", options={"maxiter": 1}
    )
    assert np.abs(plain.x).max() == pytest.approx(3.0)
    found = slsqp(lambda x: float(SLOPE @ x), lambda x: SLOPE, x0, bounds, [], max_iterations=1, tolerance=1e-9)
    assert found.x == pytest.approx(-FIRST_STEP * SLOPE / np.abs(SLOPE).max(), abs=1e-12)
    assert found.iterations == 1
    assert not found.converged


def test_later_steps_grow_and_the_optimum_is_reached() -> None:
    """The scaling changes only the first step: a quadratic's optimum 2 units away is reached, and exactly."""
    centre = np.array([2.0, -1.0, 0.5])

    def fun(x: Array) -> float:
        return float(((x - centre) ** 2).sum())

    found = slsqp(
        fun, lambda x: 2.0 * (x - centre), np.zeros(3), Bounds(-5.0, 5.0), [], max_iterations=50, tolerance=1e-12
    )
    assert found.converged, found.message
    assert found.x == pytest.approx(centre, abs=1e-6)


class Recorded:
    """A quadratic ``(x − c)ᵀ H (x − c)`` under one linear inequality ``a·x ≥ b``, recording every point asked about."""

    def __init__(self, rng: np.random.Generator, x0: Array) -> None:
        root = rng.normal(size=(3, 3))
        self.centre, self.hessian = rng.normal(0.0, 3.0, 3), root @ root.T + 0.1 * np.eye(3)
        self.normal = rng.normal(size=3)
        self.offset = float(self.normal @ x0) - 0.01
        self.seen: list[Array] = []

    def fun(self, x: Array) -> float:
        self.seen.append(x.copy())
        return float((x - self.centre) @ self.hessian @ (x - self.centre))

    def jac(self, x: Array) -> Array:
        self.seen.append(x.copy())
        return np.asarray(2.0 * self.hessian @ (x - self.centre), dtype=np.float64)

    def row(self, x: Array) -> Array:
        self.seen.append(x.copy())
        return np.array([self.normal @ x - self.offset])

    def row_jacobian(self, x: Array) -> Array:
        self.seen.append(x.copy())
        return self.normal[None]


def test_every_point_asked_about_is_within_the_bounds() -> None:
    """Quadratics whose optimum lies outside the box, under an inequality: SLSQP presses on the bounds, where its
    steps (mapped back from the scaled unknowns) land a few ulps beyond them now and then; the functions and the
    results never see such a point. 100 seeded problems (3 of them step outside without the clipping)."""
    rng = np.random.default_rng(0)
    for _ in range(100):
        lower = rng.uniform(-1.0, 0.0, 3)
        upper = lower + rng.uniform(0.1, 1.0, 3)
        x0 = rng.uniform(lower, upper)
        problem = Recorded(rng, x0)
        constraint = Constraint("ineq", problem.row, problem.row_jacobian)
        found = slsqp(
            problem.fun, problem.jac, x0, Bounds(lower, upper), [constraint], max_iterations=100, tolerance=1e-12
        )
        points = np.vstack([*problem.seen, found.x])
        assert np.all(points >= lower)
        assert np.all(points <= upper)
