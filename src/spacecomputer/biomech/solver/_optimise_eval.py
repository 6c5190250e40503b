"""The optimiser's functions of its unknowns: objective, gradient, constraints and their Jacobians in one batch.

The unknowns ``x`` are the free coordinates of every frame (frame-major). At each ``x`` one batch of poses is
analysed (:meth:`~spacecomputer.biomech.solver.QuasiStatics.analyse`): every frame's pose and, for each free
coordinate, the pose moved by ``±STEP`` in it (central differences). A change of one frame's pose changes only that
frame's features, so the phase's objective of every perturbed trajectory is assembled from the frame's perturbed
features and the others' unperturbed ones, and each frame's constraints depend on that frame alone (their Jacobian
is block-diagonal). The smoothness term and the tie-break (:data:`TIE_BREAK_WEIGHT`) are quadratic; their
gradients are analytic.

Constraint rows (``c = 0`` for equalities, ``c ≥ 0`` for inequalities; metres):

- :class:`~spacecomputer.biomech.solver.KeepPointAt`: the point's height above the ground minus the target, or its
  three coordinates minus the target's.
- :class:`~spacecomputer.biomech.solver.KeepFootOnGround`: the heel's displacement from its start (3 rows) and the
  toe's across the start's heel→toe line (2 rows), which fix the heel and the foot's line; the foot's roll about
  that line (the ankle turning about it: inversion or eversion, which the skeleton has no joint for) stays within
  ``±FOOT_ROLL_LIMIT_DEG`` (2 inequality rows, in degrees). Fixing the roll too would make the two planted feet's
  equalities linearly dependent in a symmetric stance (the rigid pelvis cannot turn both feet outwards at once to
  first order), which SLSQP cannot solve. Only in frames where the foot touches at the start.
- Balance: the COM's signed distance to the base of support minus the margin, in frames with a foot on the ground
  at the start; a pose with no foot on the ground reads ``−1 m`` minus the height its lowest foot is above contact
  (our own continuation, so that the solver is led back to the ground). The row asks for
  :data:`FEASIBILITY_TOLERANCE_M` more than the margin, so that a pose that meets it within that tolerance (the
  optimiser may return any such pose it visited) keeps the margin.
- Ground: each foot not held in a frame stays at or above the ground level (or its starting clearance if it began
  below it): its heel and its toe each, one row per point (their minimum has a kink where the foot is flat, just
  where a foot pressed to the ground ends up).
- Contact: each foot not held that touches the ground at the start stays in contact: the lower of its heel and toe
  at the start stays :data:`FEASIBILITY_TOLERANCE_M` below the contact height. Lifting it would switch its contact
  off, and with it the statics: its share of the ground reaction jumps to the other foot and the base of support
  shrinks to one foot, so the objective and the balance row jump, where SLSQP, which assumes smooth functions, is
  lost. (A one-foot base of support has next to no width: where balance is required, a foot that bears weight at
  the start has to keep bearing it anyway.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.linalg import qr

from spacecomputer.biomech._events import FEET
from spacecomputer.biomech.solver._dofs import DOF_INDEX, DOF_NAMES, JOINT_INDEX
from spacecomputer.biomech.solver._objectives import ObjectiveContext, PoseFeatures, pose_features
from spacecomputer.biomech.solver._optimise_problem import KeepFootOnGround, KeepPointAt, OptimisationProblem
from spacecomputer.biomech.solver._statics import QuasiStatics, StaticAnalysis
from spacecomputer.errors import InvalidInputError

__all__ = [
    "FEASIBILITY_TOLERANCE_M",
    "FOOT_ROLL_LIMIT_DEG",
    "STEP",
    "TIE_BREAK_WEIGHT",
    "Constraints",
    "Evaluation",
    "Evaluator",
    "Row",
    "smoothness",
]

Array = NDArray[np.float64]
STEP = 1e-6
"""Central-difference step of every coordinate, rad or m."""
TIE_BREAK_WEIGHT = 1e-4
"""Weight of ``Σ (x − x_start)²`` (rad², m²) added to the objective scaled to ±1 (our own): among poses the objective
does not tell apart (an arm that does not matter to it), the nearest to the start; it moves a scaled optimum by
about this much of a radian."""
FEASIBILITY_TOLERANCE_M = 1e-4
"""A constraint off by more than this is violated, m (degrees for a foot's roll; our own: a tenth of a mm)."""
FOOT_ROLL_LIMIT_DEG = 10.0
"""Largest roll of a planted foot about its heel–toe line, degrees (our own bound: a small inversion or eversion)."""
_NO_GROUND_M = 1.0
_RANK_TOLERANCE = 1e-8


@dataclass(frozen=True)
class Row:
    """One constraint row: its constraint, kind and frame, and whether it is a task's target (``KeepPointAt``)."""

    label: str
    kind: Literal["equality", "inequality"]
    frame: int
    target: bool = False
    unit: Literal["m", "deg"] = "m"


def smoothness(q: Array) -> tuple[float, Array]:
    """Return ``Σ_t ‖q_{t+1} − 2 q_t + q_{t−1}‖²`` of (F, D) coordinates and its (F, D) gradient."""
    second = q[2:] - 2.0 * q[1:-1] + q[:-2]
    gradient = np.zeros_like(q)
    gradient[2:] += 2.0 * second
    gradient[1:-1] -= 4.0 * second
    gradient[:-2] += 2.0 * second
    return float((second * second).sum()), gradient


def _unit(v: Array) -> Array:
    return np.asarray(v / np.linalg.norm(v, axis=-1, keepdims=True), dtype=np.float64)


class Constraints:
    """The constraint rows of a problem (module docstring), evaluated on (F, K) batches of poses."""

    def __init__(self, problem: OptimisationProblem, statics: QuasiStatics, start: StaticAnalysis, points: Array):
        self.statics, self.up = statics, statics.up
        frames = points.shape[0]
        contact = np.asarray(start.in_contact, dtype=bool)  # (F, 2)
        self.points = [k for k in problem.keep if isinstance(k, KeepPointAt)]
        held = {k.side for k in problem.keep if isinstance(k, KeepFootOnGround)}
        for side in sorted(held):
            if not contact[:, FEET.index(side)].any():
                raise InvalidInputError(
                    f"the {side} foot is not on the ground in the starting pose (its lowest point is "
                    f"{100 * float(start.foot_clearance_m[:, FEET.index(side)].min()):.1f} cm above it, contact "
                    f"below {100 * statics.contact_height_m:.0f} cm): it cannot be kept there",
                    details={"side": side},
                )
        self.held = np.array([[side in held and contact[t, i] for i, side in enumerate(FEET)] for t in range(frames)])
        self.feet = {side: self._foot_frame(points, side) for side in FEET}
        self.margin = problem.balance_margin_m
        self.balance = np.full(frames, problem.balance_required) & contact.any(axis=1)
        self.floor = np.minimum(start.foot_clearance_m, 0.0)
        self._soles = [JOINT_INDEX[f"{side}_{p}"] for side in FEET for p in ("heel", "foot_index")]
        soles = points[:, self._soles] @ self.up  # (F, 4): each foot's heel and toe
        self._lower = 2 * np.arange(2) + np.argmin(soles.reshape(frames, 2, 2), axis=2)  # (F, 2): lower one's column
        stays = contact & ~self.held
        eq: list[tuple[str, Array]] = []
        for keep in self.points:
            eq += [(str(keep), np.ones(frames, dtype=bool))] * (1 if keep.height_m is not None else 3)
        for i, side in enumerate(FEET):
            eq += [(f"the {side} foot held on the ground", self.held[:, i])] * 5
        ineq = [(f"balance (COM over the base of support, margin {self.margin:.3f} m)", self.balance)]
        for i, side in enumerate(FEET):
            ineq += [(f"the {side} foot above the ground", ~self.held[:, i])] * 2  # its heel and its toe
        ineq += [(f"the {side} foot on the ground", stays[:, i]) for i, side in enumerate(FEET)]
        for i, side in enumerate(FEET):
            rolls = self.held[:, i] & self.feet[side]["rolls"]
            ineq += [(f"the {side} foot's roll within ±{FOOT_ROLL_LIMIT_DEG:g}°", rolls)] * 2
        self.eq_mask: NDArray[np.bool_] = np.zeros((frames, len(eq)), dtype=bool)
        for r, (_, mask) in enumerate(eq):
            self.eq_mask[:, r] = mask
        self.ineq_mask: NDArray[np.bool_] = np.stack([m for _, m in ineq], axis=1).astype(bool)
        targets = 3 * len(self.points) - sum(k.height_m is not None for k in self.points) * 2
        self.eq_rows = [
            Row(eq[r][0], "equality", t, bool(r < targets))
            for t in range(frames)
            for r in np.flatnonzero(self.eq_mask[t])
        ]
        self.ineq_rows = [
            Row(ineq[r][0], "inequality", t, unit="deg" if "roll" in ineq[r][0] else "m")
            for t in range(frames)
            for r in np.flatnonzero(self.ineq_mask[t])
        ]

    def _foot_frame(self, points: Array, side: str) -> dict[str, Array]:
        heel, ankle, toe = (points[:, JOINT_INDEX[f"{side}_{p}"]] for p in ("heel", "ankle", "foot_index"))
        along = _unit(toe - heel)
        helper = np.where(np.abs(along @ self.up)[:, None] > 0.9, [[1.0, 0.0, 0.0]], self.up)
        across = _unit(np.cross(along, helper))
        offset = ankle - heel
        offset = offset - (offset * along).sum(axis=-1, keepdims=True) * along
        length = np.linalg.norm(offset, axis=-1)
        rolls = length > 1e-6
        towards_ankle = offset / np.where(rolls, length, 1.0)[:, None]
        return {
            "heel": heel,
            "toe": toe,
            "across": np.stack([across, np.cross(along, across)], axis=1),
            "roll_axes": np.stack([towards_ankle, np.cross(along, towards_ankle)], axis=1),
            "rolls": rolls,
        }

    def equality(self, points: Array) -> Array:
        """(F, K, m) equality residuals of (F, K, P, 3) points (every row; :attr:`eq_mask` picks each frame's)."""
        out = []
        ground = self.statics.ground_level_m
        for keep in self.points:
            p = points[:, :, JOINT_INDEX[keep.name]]
            if keep.height_m is not None:
                out.append((p @ self.up - ground - keep.height_m)[..., None])
            else:
                out.append(p - np.asarray(keep.position_m))
        for side in FEET:
            foot = self.feet[side]
            heel, toe = (points[:, :, JOINT_INDEX[f"{side}_{p}"]] for p in ("heel", "foot_index"))
            out.append(heel - foot["heel"][:, None])
            out.append(np.einsum("fki,fji->fkj", toe - foot["toe"][:, None], foot["across"]))
        return np.concatenate(out, axis=-1) if out else np.zeros((*points.shape[:2], 0))

    def inequality(self, points: Array, analysis: StaticAnalysis) -> Array:
        """(F, K, m) inequality values of (F, K, P, 3) points and their analysis (every row; :attr:`ineq_mask`)."""
        shape = points.shape[:2]
        clearance = analysis.foot_clearance_m.reshape(*shape, 2)
        to_bos = analysis.com_to_bos_m.reshape(shape)
        lowest = clearance.min(axis=-1) - self.statics.contact_height_m
        balance = np.where(np.isfinite(to_bos), to_bos, -_NO_GROUND_M - lowest) - self.margin - FEASIBILITY_TOLERANCE_M
        heights = points[:, :, self._soles] @ self.up - self.statics.ground_level_m  # (F, K, 4): heels and toes
        lower = np.take_along_axis(heights, np.broadcast_to(self._lower[:, None], (*shape, 2)), axis=2)
        out = [balance[..., None], heights - np.repeat(self.floor, 2, axis=1)[:, None]]
        out.append(self.statics.contact_height_m - FEASIBILITY_TOLERANCE_M - lower)
        limit = FOOT_ROLL_LIMIT_DEG
        for side in FEET:
            heel, ankle = (points[:, :, JOINT_INDEX[f"{side}_{p}"]] for p in ("heel", "ankle"))
            axes = np.einsum("fki,fji->fkj", ankle - heel, self.feet[side]["roll_axes"])
            roll = np.degrees(np.arctan2(axes[..., 1], axes[..., 0]))
            out.append(np.stack([limit - roll, limit + roll], axis=-1))
        return np.concatenate(out, axis=-1)


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Everything at one ``x``: the objective (natural units and the internal cost), constraints, derivatives."""

    q: Array
    value: float
    value_gradient: Array
    cost: float
    gradient: Array
    smoothness: float
    eq: Array
    eq_jacobian: Array
    ineq: Array
    ineq_jacobian: Array
    features: PoseFeatures
    analysis: StaticAnalysis
    points: Array

    @property
    def feasible(self) -> bool:
        """Every constraint holds within :data:`FEASIBILITY_TOLERANCE_M`."""
        worst_eq = float(np.abs(self.eq).max(initial=0.0))
        return worst_eq <= FEASIBILITY_TOLERANCE_M and float(self.ineq.min(initial=np.inf)) >= -FEASIBILITY_TOLERANCE_M


def _independent_rows(jacobian: Array) -> NDArray[np.bool_]:
    """Rows of an equality Jacobian that are linearly independent (pivoted QR; the first of a dependent set stays).

    SLSQP fails on linearly dependent equalities (two task constraints that fix the same thing); the dropped rows
    are implied to first order at the start and are still checked at the end.
    """
    keep = np.zeros(jacobian.shape[0], dtype=bool)
    if jacobian.size == 0:
        return np.ones(jacobian.shape[0], dtype=bool)
    _, r, pivots = qr(jacobian.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > _RANK_TOLERANCE * max(float(diagonal[0]), 1.0)).sum())
    keep[pivots[:rank]] = True
    return keep


class Evaluator:
    """The optimiser's functions of ``x`` (the free coordinates of every frame), evaluated once per ``x``."""

    def __init__(
        self, problem: OptimisationProblem, statics: QuasiStatics, start: Array, context: ObjectiveContext
    ) -> None:
        self.problem, self.statics, self.start, self.context = problem, statics, start, context
        self.objective = problem.spec
        self.free = np.array([DOF_INDEX[n] for n in problem.free_dofs], dtype=np.intp)
        self.frames, self.n = start.shape[0], self.free.size
        self.weight = problem.phase.smoothness_weight if problem.phase is not None else 0.0
        self.scale = 1.0
        self.calls = 0
        points = statics.skeleton.points(start)
        self.constraints = Constraints(problem, statics, statics.analyse(points), points)
        self._last: tuple[bytes, Evaluation] | None = None
        self.best: Evaluation | None = None
        first = self.at(self.x0)
        self.scale = self.objective.scale(
            first.value, float(np.abs(first.value_gradient).max(initial=0.0)), phase=problem.phase is not None
        )
        self.independent = _independent_rows(first.eq_jacobian)
        self._last, self.best = None, None

    @property
    def x0(self) -> Array:
        """The starting unknowns."""
        return np.asarray(self.start[:, self.free].ravel(), dtype=np.float64)

    def q_of(self, x: Array) -> Array:
        """(F, D) coordinates of unknowns ``x``."""
        q = self.start.copy()
        q[:, self.free] = np.asarray(x, dtype=np.float64).reshape(self.frames, self.n)
        return q

    def _value(self, features: PoseFeatures) -> Array:
        if self.problem.phase is None:
            return self.objective.pose(features, self.context)
        return self.objective.phase(features, self.context)

    def at(self, x: Array) -> Evaluation:
        """Evaluate everything at ``x`` (cached for the last ``x``)."""
        key = np.asarray(x, dtype=np.float64).tobytes()
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        self.calls += 1
        q = self.q_of(x)
        f, n, d = self.frames, self.n, len(DOF_NAMES)
        k = 1 + 2 * n
        batch = np.repeat(q[:, None], k, axis=1)  # (F, K, D): the pose, then +STEP, then −STEP in each unknown
        columns = np.arange(n)
        batch[:, 1 + columns, self.free] += STEP
        batch[:, 1 + n + columns, self.free] -= STEP
        flat = batch.reshape(f * k, d)
        points = self.statics.skeleton.points(flat)
        analysis = self.statics.analyse(points)
        features = pose_features(self.statics, flat, risk=self.objective.uses_risk, points=points, analysis=analysis)
        grid = features.map(lambda a: a.reshape(f, k, *a.shape[1:]))
        values = self._value(grid.map(self._trajectories))
        gradient = np.zeros((f, n))
        if n:
            steps = values[1:].reshape(f, 2, n)
            gradient = (steps[:, 0] - steps[:, 1]) / (2.0 * STEP)
        smooth, smooth_gradient = smoothness(q)
        moved = np.asarray(x, dtype=np.float64) - self.x0
        sign = self.objective.sign
        cons = self.constraints
        eq_all = cons.equality(points.reshape(f, k, *points.shape[1:]))
        ineq_all = cons.inequality(points.reshape(f, k, *points.shape[1:]), analysis)
        evaluation = Evaluation(
            q=q,
            value=float(values[0]),
            value_gradient=gradient.ravel(),
            cost=sign * float(values[0]) / self.scale + self.weight * smooth + TIE_BREAK_WEIGHT * float(moved @ moved),
            gradient=(
                sign * gradient / self.scale
                + self.weight * smooth_gradient[:, self.free]
                + 2.0 * TIE_BREAK_WEIGHT * moved.reshape(f, n)
            ).ravel(),
            smoothness=smooth,
            eq=eq_all[:, 0][cons.eq_mask],
            eq_jacobian=self._jacobian(eq_all, cons.eq_mask),
            ineq=ineq_all[:, 0][cons.ineq_mask],
            ineq_jacobian=self._jacobian(ineq_all, cons.ineq_mask),
            features=grid.map(lambda a: a[:, 0]),
            analysis=analysis,
            points=points.reshape(f, k, *points.shape[1:])[:, 0],
        )
        self._last = (key, evaluation)
        if evaluation.feasible and (self.best is None or evaluation.cost < self.best.cost):
            self.best = evaluation
        return evaluation

    def _trajectories(self, a: Array) -> Array:
        """(B, F, …) features of the trajectory and of each perturbed one, from (F, K, …) per-frame features.

        Trajectory 0 is unperturbed; trajectory ``1 + t (K − 1) + k − 1`` has frame ``t`` replaced by its ``k``-th
        perturbed pose. For a single pose (F = 1) the trajectories are the K poses themselves.
        """
        f, k = a.shape[:2]
        out = np.repeat(a[None, :, 0], 1 + f * (k - 1), axis=0)
        frame = np.repeat(np.arange(f), k - 1)
        which = np.tile(np.arange(1, k), f)
        out[1 + np.arange(f * (k - 1)), frame] = a[frame, which]
        return out

    def _jacobian(self, values: Array, mask: NDArray[np.bool_]) -> Array:
        """(rows, F·n) block-diagonal Jacobian of per-frame constraint values (F, K, m) by central differences."""
        f, n = self.frames, self.n
        out = np.zeros((int(mask.sum()), f * n))
        row = 0
        for t in range(f):
            rows = np.flatnonzero(mask[t])
            if rows.size and n:
                plus, minus = values[t, 1 : 1 + n][:, rows], values[t, 1 + n :][:, rows]
                out[row : row + rows.size, t * n : (t + 1) * n] = ((plus - minus) / (2.0 * STEP)).T
            row += rows.size
        return out
