"""The pose lab's optimiser: the pose (or short phase) that best meets an objective under physical constraints.

:meth:`BiomechanicalSolver.solve` minimises the objective (:mod:`~spacecomputer.biomech.solver._objectives`,
``−value`` for the one to maximise) scaled to about ±1 at the start, plus a phase's smoothness term and a small
tie-break towards the start, over the free coordinates of every frame with SciPy's SLSQP: bounds are the joint limits
(narrowed by the problem's largest changes), equalities the task constraints, inequalities balance and the ground
(:mod:`~spacecomputer.biomech.solver._optimise_eval`, where the values and gradients come from: one batch of poses
per iterate). Bone lengths hold by construction of the skeleton. How SLSQP is driven (a small first step, then
trust boxes around the best pose when it does not converge) is in :mod:`~spacecomputer.biomech.solver
._optimise_search`.

Outcomes
--------
- The result is the best feasible pose the optimiser visited (every constraint within
  :data:`~spacecomputer.biomech.solver._optimise_eval.FEASIBILITY_TOLERANCE_M`): its last iterate when it converged.
- A feasible start that no feasible pose improves by more than :data:`OPTIMAL_TOLERANCE` of its objective's scale
  is returned unchanged (an already-optimal pose stays where it is; never a worse pose than a feasible start). The
  message says which: "already optimal" when the optimiser converged there, "no feasible pose found improves the
  objective" (and why the search stopped) when it did not.
- When no feasible pose was visited, the nearest is sought (:meth:`BiomechanicalSolver._nearest`: the
  :class:`~spacecomputer.biomech.solver.KeepPointAt` targets as near as the other constraints allow, else least
  squares of every violation); if it still violates some, the result is ``infeasible=True`` with them named and
  by how much: nothing is relaxed.
"""

from __future__ import annotations

import math
import time
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, minimize

from spacecomputer.biomech.solver._dofs import ANGULAR_DOFS, DOF_NAMES, JOINT_NAMES
from spacecomputer.biomech.solver._manipulate import derived_angles_deg
from spacecomputer.biomech.solver._objectives import ObjectiveContext
from spacecomputer.biomech.solver._optimise_eval import FEASIBILITY_TOLERANCE_M, Evaluation, Evaluator, Row
from spacecomputer.biomech.solver._optimise_problem import OptimisationProblem
from spacecomputer.biomech.solver._optimise_result import (
    ConstraintReport,
    FrameOutcome,
    SolveResult,
    validity_check,
)
from spacecomputer.biomech.solver._optimise_search import Constraint, minimise, slsqp
from spacecomputer.biomech.solver._session import PoseSession
from spacecomputer.biomech.solver._session_report import State, angle_changes, balance_of, moment_changes
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.biomech.solver._statics import QuasiStatics
from spacecomputer.errors import InvalidInputError

__all__ = ["ACTIVE_TOLERANCE_M", "FEASIBILITY_TOLERANCE_M", "OPTIMAL_TOLERANCE", "BiomechanicalSolver"]

ACTIVE_TOLERANCE_M = 1e-5
"""An inequality with less slack than this is active, m (our own)."""
OPTIMAL_TOLERANCE = 1e-6
"""Improvements of the scaled objective smaller than this do not move a feasible start (our own)."""
_BOUND_TOLERANCE = 1e-7
Unit = Literal["m", "deg"]
_MISS_TOLERANCE_M2 = 1e-10


class BiomechanicalSolver:
    """Optimise poses of one subject: from a :class:`PoseSession`, or a skeleton and its :class:`QuasiStatics`.

    Parameters
    ----------
    session_or_model
        A pose session (its current pose is the default start) or the subject's skeleton.
    statics
        The quasi-statics of that skeleton (required with a skeleton; taken from the session otherwise).
    max_iterations
        Most SLSQP iterations from the start; when it does not converge, the trust boxes that follow get as many
        again (:func:`~spacecomputer.biomech.solver._optimise_search.minimise`).
    tolerance
        SLSQP's ``ftol`` on the objective scaled to ±1 at the start: it stops when an iteration improves it by less
        than this fraction of the starting value (our default: beyond it, 30 random standing starts of the
        benchmark gained a few hundred-thousandths of the starting joint stress for twice the time).

    """

    def __init__(
        self,
        session_or_model: PoseSession | SkeletonModel,
        statics: QuasiStatics | None = None,
        *,
        max_iterations: int = 100,
        tolerance: float = 1e-5,
    ) -> None:
        if isinstance(session_or_model, PoseSession):
            if statics is not None and statics is not session_or_model.statics:
                raise InvalidInputError("a session brings its own statics: pass a session or a skeleton and statics")
            self.session: PoseSession | None = session_or_model
            self.statics = session_or_model.statics
        elif statics is None or statics.skeleton is not session_or_model:
            raise InvalidInputError("a skeleton needs the QuasiStatics built on it (statics.skeleton is the model)")
        else:
            self.session, self.statics = None, statics
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 1:
            raise InvalidInputError(f"max_iterations must be a positive integer; got {max_iterations!r}")
        if not (math.isfinite(tolerance) and tolerance > 0):
            raise InvalidInputError(f"tolerance must be finite and positive; got {tolerance!r}")
        self.model = self.statics.skeleton
        self.max_iterations, self.tolerance = max_iterations, tolerance

    def solve(self, problem: OptimisationProblem, *, q: ArrayLike | None = None) -> SolveResult:
        """Optimise ``problem`` from ``q`` (a single pose; default: the session's current pose) or its phase.

        Raises
        ------
        InvalidInputError
            A start of the wrong shape, not finite or outside the joint limits; a foot to keep on the ground that
            is not on it; a start given for a phase.

        """
        started = time.perf_counter()
        if problem.phase is not None and q is not None:
            raise InvalidInputError("a phase problem starts from its phase's frames: do not pass q")
        default = self.session.q if self.session is not None and problem.phase is None else None
        start = problem.start_of(q if q is not None else default)
        self._check_limits(start)
        phase = problem.phase
        first = self.statics.analyse_q(start[:1])
        context = ObjectiveContext.of(
            self.statics,
            strength_n_m_per_kg=problem.strength_n_m_per_kg,
            joints=problem.joints,
            fps=phase.fps if phase is not None else None,
            stance=first.in_contact[0].astype(np.float64),
        )
        evaluator = Evaluator(problem, self.statics, start, context)
        at_start = evaluator.at(evaluator.x0)
        bounds = self._bounds(problem, start, evaluator)
        iterations, message, converged, final = 0, "nothing to optimise: every coordinate is preserved", True, at_start
        if evaluator.n:
            found = minimise(
                evaluator,
                bounds,
                self._constraints(evaluator, evaluator.independent),
                max_iterations=self.max_iterations,
                tolerance=self.tolerance,
            )
            iterations, message, converged, final = (
                found.iterations,
                found.message,
                found.converged,
                evaluator.at(found.x),
            )
        best = evaluator.best  # the best feasible pose visited (the start, if it is feasible, included)
        infeasible = False
        if best is not None and (not final.feasible or best.cost < final.cost - OPTIMAL_TOLERANCE):
            message = f"{message}; the best pose visited that meets the constraints is returned"
            converged, final = converged and final.feasible, best
        if best is not None and at_start.feasible and final.cost >= at_start.cost - OPTIMAL_TOLERANCE:
            if evaluator.n:
                message = (
                    "the starting pose is already optimal: no feasible pose visited improves the objective"
                    if converged
                    else f"no feasible pose found improves the objective: the starting pose is returned ({message})"
                )
            final = at_start
        if best is None:
            final = self._nearest(evaluator, bounds)
            infeasible = not final.feasible
            names = "; ".join(str(v) for v in self._violations(evaluator, final))
            message = (
                f"infeasible: no pose meets {names} ({message}); the nearest pose found is returned"
                if infeasible
                else f"{message}; the pose nearest to the start that meets the constraints is returned"
            )
            converged = False
        violated = self._violations(evaluator, final)
        return self._result(
            problem, evaluator, at_start, final, violated, infeasible, converged, message, iterations, started
        )

    # -- the optimisation ------------------------------------------------------------------------------------------

    def _check_limits(self, start: NDArray[np.float64]) -> None:
        lower, upper = self.model.bounds()
        outside = sorted({DOF_NAMES[j] for _, j in zip(*np.nonzero((start < lower) | (start > upper)), strict=True)})
        if outside:
            raise InvalidInputError(
                f"the starting pose is outside the joint limits of {outside}", details={"outside": outside}
            )

    def _bounds(self, problem: OptimisationProblem, start: NDArray[np.float64], evaluator: Evaluator) -> Bounds:
        lower, upper = (np.broadcast_to(b, start.shape).copy() for b in self.model.bounds())
        angular = np.array([name in ANGULAR_DOFS for name in DOF_NAMES])
        for limit, mask in ((problem.max_change_deg, angular), (problem.max_shift_m, ~angular)):
            if limit is not None:
                step = math.radians(limit) if mask is angular else limit
                lower[:, mask] = np.maximum(lower[:, mask], start[:, mask] - step)
                upper[:, mask] = np.minimum(upper[:, mask], start[:, mask] + step)
        return Bounds(lower[:, evaluator.free].ravel(), upper[:, evaluator.free].ravel())

    @staticmethod
    def _constraints(evaluator: Evaluator, keep: NDArray[np.bool_]) -> list[Constraint]:
        """SLSQP's constraints: the equality rows ``keep`` and every inequality row."""
        out = []
        if keep.any():
            out.append(
                Constraint("eq", lambda x: evaluator.at(x).eq[keep], lambda x: evaluator.at(x).eq_jacobian[keep])
            )
        if evaluator.constraints.ineq_rows:
            out.append(Constraint("ineq", lambda x: evaluator.at(x).ineq, lambda x: evaluator.at(x).ineq_jacobian))
        return out

    def _nearest(self, evaluator: Evaluator, bounds: Bounds) -> Evaluation:
        """Find the pose nearest to meeting the constraints: the targets as near as the others allow, if they can hold.

        First the squared misses of the :class:`KeepPointAt` targets are minimised under every other constraint
        (SLSQP); when that leaves another constraint violated, or there is no target, the squared violations of all
        constraints are minimised within the bounds (L-BFGS-B).
        """
        target = np.array([row.target for row in evaluator.constraints.eq_rows], dtype=bool)
        if target.any():

            def miss(x: NDArray[np.float64]) -> float:
                at = evaluator.at(x)
                return 0.5 * float(at.eq[target] @ at.eq[target])

            def miss_gradient(x: NDArray[np.float64]) -> NDArray[np.float64]:
                at = evaluator.at(x)
                return np.asarray(at.eq_jacobian[target].T @ at.eq[target], dtype=np.float64)

            found = slsqp(
                miss,
                miss_gradient,
                evaluator.x0,
                bounds,
                self._constraints(evaluator, evaluator.independent & ~target),
                max_iterations=self.max_iterations,
                tolerance=_MISS_TOLERANCE_M2,
            )
            at = evaluator.at(found.x)
            if np.abs(at.eq[~target]).max(initial=0.0) <= FEASIBILITY_TOLERANCE_M and (
                at.ineq.min(initial=0.0) >= -FEASIBILITY_TOLERANCE_M
            ):
                return at

        def violation(x: NDArray[np.float64]) -> float:
            at = evaluator.at(x)
            short = np.minimum(at.ineq, 0.0)
            return 0.5 * float(at.eq @ at.eq + short @ short)

        def gradient(x: NDArray[np.float64]) -> NDArray[np.float64]:
            at = evaluator.at(x)
            short = np.minimum(at.ineq, 0.0)
            return np.asarray(at.eq_jacobian.T @ at.eq + at.ineq_jacobian.T @ short, dtype=np.float64)

        found = minimize(
            violation, evaluator.x0, jac=gradient, bounds=bounds, method="L-BFGS-B", options={"maxiter": 200}
        )
        return evaluator.at(found.x)

    @staticmethod
    def _grouped(rows: list[Row], values: NDArray[np.float64]) -> dict[tuple[str, int, Unit], float]:
        """Each constraint's (label, frame, unit) worst row: largest |residual| of equalities, least slack."""
        out: dict[tuple[str, int, Unit], float] = {}
        for row, value in zip(rows, values, strict=True):
            key = (row.label, row.frame, row.unit)
            if row.kind == "equality":
                out[key] = max(out.get(key, 0.0), abs(float(value)))
            else:
                out[key] = min(out.get(key, math.inf), float(value))
        return out

    def _violations(self, evaluator: Evaluator, at: Evaluation) -> tuple[ConstraintReport, ...]:
        cons = evaluator.constraints
        out = [
            ConstraintReport("equality", label, frame, value, unit)
            for (label, frame, unit), value in self._grouped(cons.eq_rows, at.eq).items()
            if value > FEASIBILITY_TOLERANCE_M
        ]
        out += [
            ConstraintReport("inequality", label, frame, -value, unit)
            for (label, frame, unit), value in self._grouped(cons.ineq_rows, at.ineq).items()
            if value < -FEASIBILITY_TOLERANCE_M
        ]
        return tuple(out)

    def _active(self, problem: OptimisationProblem, evaluator: Evaluator, at: Evaluation) -> list[ConstraintReport]:
        lower, upper = self.model.bounds()
        bounds = self._bounds(problem, evaluator.start, evaluator)
        x = at.q[:, evaluator.free].ravel()
        out = []
        for i, value in enumerate(x):
            frame, dof = divmod(i, evaluator.n)
            j = int(evaluator.free[dof])
            for bound, limit in ((bounds.lb[i], lower[j]), (bounds.ub[i], upper[j])):
                if math.isfinite(bound) and abs(value - bound) <= _BOUND_TOLERANCE:
                    kind: Literal["joint limit", "max change"] = "joint limit" if bound == limit else "max change"
                    angle = DOF_NAMES[j] in ANGULAR_DOFS
                    unit: Unit = "deg" if angle else "m"
                    out.append(
                        ConstraintReport(kind, DOF_NAMES[j], frame, math.degrees(value) if angle else value, unit)
                    )
        cons = evaluator.constraints
        out += [
            ConstraintReport("equality", label, frame, v, unit)
            for (label, frame, unit), v in self._grouped(cons.eq_rows, at.eq).items()
        ]
        out += [
            ConstraintReport("inequality", label, frame, v, unit)
            for (label, frame, unit), v in self._grouped(cons.ineq_rows, at.ineq).items()
            if abs(v) <= ACTIVE_TOLERANCE_M
        ]
        return out

    # -- the report ------------------------------------------------------------------------------------------------

    def _state(self, q: NDArray[np.float64]) -> State:
        points = self.model.points(q)
        statics = self.statics.analyse(points)
        angles = {n: math.degrees(q[i]) for i, n in enumerate(DOF_NAMES) if i >= 6}
        angles |= {n: float(v[0]) for n, v in derived_angles_deg(self.model, q[None], points_m=points[None]).items()}
        return State(q, points, statics, angles)

    def _frame(self, before: NDArray[np.float64], after: NDArray[np.float64]) -> FrameOutcome:
        old, new = self._state(before), self._state(after)
        return FrameOutcome(
            q_before=before.copy(),
            q=after.copy(),
            pose={name: new.points[i].copy() for i, name in enumerate(JOINT_NAMES)},
            balance_before=balance_of(old.statics),
            balance=balance_of(new.statics),
            angle_changes=angle_changes(old, new),
            moment_changes=moment_changes(old, new, self.statics.body.mass_kg),
        )

    def _result(
        self,
        problem: OptimisationProblem,
        evaluator: Evaluator,
        at_start: Evaluation,
        final: Evaluation,
        violated: tuple[ConstraintReport, ...],
        infeasible: bool,
        converged: bool,
        message: str,
        iterations: int,
        started: float,
    ) -> SolveResult:
        frames = tuple(self._frame(a, b) for a, b in zip(evaluator.start, final.q, strict=True))
        validity = validity_check(self.statics, final.q)
        warnings = []
        if problem.phase is not None:
            warnings.append("the phase's moments are quasi-static: the frames' accelerations are ignored")
        if not final.analysis.in_contact.reshape(evaluator.frames, -1, 2)[:, 0].any(axis=1).all():
            warnings.append("a pose of the result has no foot on the ground: it cannot be held still")
        if not validity.passed:
            warnings.append(f"the independent recomputation disagrees: {validity}")
        phase = problem.phase is not None
        return SolveResult(
            objective=problem.objective,
            sense=problem.spec.sense,
            unit=problem.spec.phase_unit if phase else problem.spec.pose_unit,
            objective_before=at_start.value,
            objective_after=final.value,
            q=final.q.copy() if phase else final.q[0].copy(),
            frames=frames,
            success=converged and not violated,
            infeasible=infeasible,
            message=message,
            violated=violated,
            active=tuple(self._active(problem, evaluator, final)),
            smoothness_before=at_start.smoothness if phase else math.nan,
            smoothness_after=final.smoothness if phase else math.nan,
            free_dofs=problem.free_dofs,
            iterations=iterations,
            evaluations=evaluator.calls,
            elapsed_ms=1000.0 * (time.perf_counter() - started),
            validity=validity,
            warnings=tuple(warnings),
        )
