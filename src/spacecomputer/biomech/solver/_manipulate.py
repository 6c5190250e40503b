"""Manipulations of one skeleton pose: set an angle, or drag a joint centre by inverse kinematics on its chain.

Setting an angle
----------------
A coordinate (:data:`~spacecomputer.biomech.solver.DOF_NAMES`, but the pelvis's own) is set and clamped to its
limits. Three engine angles are not coordinates; each is reached by a small least-squares solve on the engine's
own definition: ``trunk_flexion`` turns the pelvis frame (which carries the trunk) about the hip line, so the hips
stay where they are, with lumbar bending keeping ``trunk_lateral_lean``; ``trunk_lateral_lean`` bends and turns
the lumbar joint, keeping ``trunk_flexion`` and the heading; ``pelvis_obliquity`` turns the pelvis about its
anterior axis while the lumbar joint bends back, so the trunk stays. When the pelvis turns, each thigh keeps its
orientation in space (its hip angles are recomputed), and for the pelvis each foot in contact then returns to its
place by inverse kinematics of its leg. ``shoulder_elevation`` is derived from flexion and abduction.

Dragging a joint
----------------
The chain that moves (the rest of the body stays): elbow → shoulder flexion and abduction; wrist or hand →
those, the arm's internal rotation and the elbow; knee → hip flexion and adduction; ankle → those, the hip's
internal rotation and the knee; heel or toe → those and the ankle; nose, ears or head vertex → the neck; mid-
shoulder → the pelvis frame turning about the hip line and lumbar bending; a shoulder → those, lumbar rotation and
the shoulder-line tilt (thighs held as above); mid-hip or a hip → the pelvis translates, and the legs of the feet
in contact move to keep those feet in place. A two-segment limb within its limits is solved in closed form
(:mod:`spacecomputer.biomech.solver._chains`); otherwise a bounded least-squares solve
(:mod:`spacecomputer.biomech.solver._ik`) minimises the distance to the target within the joint limits, plus
:data:`REGULARISATION` times the change of the chain's coordinates from an anchor (our choice, to settle redundant
chains): the session's original pose for limbs, head and pelvis, so that a drag and its reverse restore the pose
(where the original pose meets the target it is the first start); the current pose for the trunk, whose turn about
the hip line is relative to it. It runs from up to three starts until one meets the target; the nearest result
wins. A target out of reach gives the nearest pose found within the limits, flagged ``reached=False`` with the
distance; when a limit stopped the chain, the violations give what the chain would have needed without limits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spacecomputer.biomech._angles import JOINT_ANGLE_DEFINITIONS, LandmarkPoints
from spacecomputer.biomech.solver._chains import DRAGGABLE_JOINTS, chain_for
from spacecomputer.biomech.solver._dofs import DOF_INDEX, JOINT_INDEX, JOINT_NAMES
from spacecomputer.biomech.solver._ik import (
    REGULARISATION,
    Array,
    ToQ,
    at_bound,
    clamp,
    columns,
    hip_line,
    hold_feet,
    hold_thighs,
    solve,
    turned_root,
    violation,
)
from spacecomputer.biomech.solver._results import LimitViolation
from spacecomputer.biomech.solver._skeleton import SkeletonModel
from spacecomputer.errors import InvalidInputError

__all__ = [
    "ANGLE_TOLERANCE_DEG",
    "DERIVED_ANGLES",
    "DRAGGABLE_JOINTS",
    "REACH_TOLERANCE_M",
    "REGULARISATION",
    "SETTABLE_ANGLES",
    "Outcome",
    "derived_angles_deg",
    "drag_joint",
    "set_angle",
]

REACH_TOLERANCE_M = 1e-3
"""A dragged joint within this distance of its target has reached it, m (our own tolerance)."""
ANGLE_TOLERANCE_DEG = 1e-3
"""A derived angle within this of its target has reached it, degrees (our own tolerance)."""
DERIVED_ANGLES = ("trunk_flexion", "trunk_lateral_lean", "pelvis_obliquity")
"""Engine angles that are set by a solve rather than directly."""
SETTABLE_ANGLES: tuple[str, ...] = (*(n for n in DOF_INDEX if not n.startswith("pelvis_")), *DERIVED_ANGLES)
_DERIVED = {a.name: a for a in JOINT_ANGLE_DEFINITIONS if a.compute is not None and a.name not in DOF_INDEX}
_UNBOUNDED_ITERATIONS = 15
_CHANGED_RAD = 1e-7


@dataclass(frozen=True)
class Outcome:
    """A manipulated pose before its analysis: coordinates, enforced limits, whether the target was met."""

    q: Array
    violations: tuple[LimitViolation, ...]
    reached: bool
    miss_distance_m: float | None
    angle_shortfall_deg: float | None
    warnings: tuple[str, ...] = ()


def derived_angles_deg(
    model: SkeletonModel, q: Array, names: tuple[str, ...] | None = None, *, points_m: Array | None = None
) -> dict[str, Array]:
    """Compute the engine angles that are not coordinates (or ``names`` of them) of (N, D) ``q``, degrees.

    Each value is (N,). The trunk and pelvis angles need only the torso, which is then all that is placed;
    ``points_m``, the (N, P, 3) points of ``q`` when already known, spares the kinematics.
    """
    wanted = tuple(_DERIVED) if names is None else names
    points: dict[str, Array] = {}
    if points_m is not None:
        points = {name: points_m[:, i] for i, name in enumerate(JOINT_NAMES)}
    elif set(wanted) <= set(DERIVED_ANGLES):
        model.torso(q, points.__setitem__)
    else:
        pts = model._points(q)
        points = {name: pts[:, i] for i, name in enumerate(JOINT_NAMES)}
    landmarks = LandmarkPoints(points)
    out = {}
    for name in wanted:
        compute = _DERIVED[name].compute
        if compute is not None:
            out[name] = compute(landmarks, model.up)
    return out


def _slip_warning(slip_m: float) -> list[str]:
    if slip_m <= REACH_TOLERANCE_M:
        return []
    return [f"the feet in contact could not all be held: one moved by {100 * slip_m:.1f} cm"]


def drag_joint(
    model: SkeletonModel, q: Array, joint: str, target: Array, *, anchor_q: Array, in_contact: tuple[bool, bool]
) -> Outcome:
    """Move ``joint`` of (D,) pose ``q`` towards the (3,) ``target`` by IK on its chain (module docstring)."""
    chain = chain_for(model, q, joint, target, anchor_q=anchor_q, in_contact=in_contact)
    row = JOINT_INDEX[joint]
    held_rows = [JOINT_INDEX[n] for n in chain.holds]
    held = model.points(q)[held_rows]

    def residual(qs: Array) -> Array:
        pts = chain.points(qs)
        return np.concatenate([pts[:, row] - target, (pts[:, held_rows] - held).reshape(qs.shape[0], -1)], axis=1)

    x = chain.starts[0]
    if not chain.solved:  # least squares from each start until the target is met; the nearest result wins
        starts = chain.starts
        if np.linalg.norm(residual(chain.to_q(chain.anchor[None]))[0]) <= REACH_TOLERANCE_M:
            starts = (chain.anchor, *starts)  # the original pose meets the target: start there (a drag undone)
        best = np.inf
        for start in starts:
            trial = solve(chain.to_q, residual, start, chain.anchor, chain.lower, chain.upper)
            miss_m = float(np.linalg.norm(residual(chain.to_q(trial[None]))[0]))
            if miss_m < best:
                x, best = trial, miss_m
            if best <= REACH_TOLERANCE_M:
                break
    new_q = chain.to_q(x[None])[0]
    violations: list[LimitViolation] = []
    if chain.turns_pelvis:
        violations += hold_thighs(model, q, new_q)
    points = model.points(new_q)
    miss = float(np.linalg.norm(points[row] - target))
    stopped = at_bound(x, chain.lower, chain.upper)
    if miss > REACH_TOLERANCE_M and stopped.any():
        free = chain.closed_form
        if free is None:
            infinite = np.full(x.size, np.inf)
            free = solve(
                chain.to_q, residual, x, chain.anchor, -infinite, infinite, max_iterations=_UNBOUNDED_ITERATIONS
            )
        violations += [
            violation(name, float(np.degrees(free[i])), float(np.degrees(x[i])))
            for i, name in enumerate(chain.names)
            if stopped[i] and abs(free[i] - x[i]) > _CHANGED_RAD
        ]
    slip = float(np.linalg.norm(points[held_rows] - held, axis=1).max()) if held_rows else 0.0
    return Outcome(new_q, tuple(violations), miss <= REACH_TOLERANCE_M, miss, None, tuple(_slip_warning(slip)))


# --- setting an angle ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _AngleProblem:
    to_q: ToQ
    start: Array
    lower: Array
    upper: Array
    angles: tuple[str, ...]  # the angle set, then those kept
    targets: tuple[float, ...]
    behind: tuple[str, ...]  # the coordinates among the last parameters whose bounds can stop the solve


def _angle_problem(model: SkeletonModel, q: Array, name: str, target_deg: float) -> _AngleProblem:
    now = {k: float(v[0]) for k, v in derived_angles_deg(model, q[None], DERIVED_ANGLES).items()}
    lower, upper = model.bounds()
    b = DOF_INDEX["lumbar_bending"]
    if name == "trunk_flexion":
        axis = hip_line(model, q)

        def turn_and_bend(x: Array) -> Array:
            out = turned_root(model, q, axis, x[:, 0])
            out[:, b] = x[:, 1]
            return out

        kept = now["trunk_lateral_lean"]
        low, high = np.array([-np.inf, lower[b]]), np.array([np.inf, upper[b]])
        return _AngleProblem(
            turn_and_bend,
            np.array([0.0, q[b]]),
            low,
            high,
            (name, "trunk_lateral_lean"),
            (target_deg, kept),
            ("lumbar_bending",),
        )
    if name == "trunk_lateral_lean":
        names = ("lumbar_bending", "lumbar_rotation")
        idx = [DOF_INDEX[n] for n in names]
        kept = now["trunk_flexion"]
        return _AngleProblem(
            columns(q, names), q[idx], lower[idx], upper[idx], (name, "trunk_flexion"), (target_deg, kept), names
        )
    _, pelvis = model.pelvis_frame(q[None])
    anterior = pelvis[0][0]

    def tilt(x: Array) -> Array:
        out = turned_root(model, q, anterior, x[:, 0])
        out[:, b] = q[b] - x[:, 0]
        return out

    low, high = np.array([q[b] - upper[b]]), np.array([q[b] - lower[b]])
    return _AngleProblem(tilt, np.zeros(1), low, high, (name,), (target_deg,), ("lumbar_bending",))


def set_angle(
    model: SkeletonModel, q: Array, name: str, target_deg: float, *, in_contact: tuple[bool, bool]
) -> Outcome:
    """Set angle ``name`` of (D,) pose ``q`` to ``target_deg`` (module docstring), within the limits.

    Raises
    ------
    InvalidInputError
        ``name`` is not one of :data:`SETTABLE_ANGLES`, or a derived angle is undefined in this pose.

    """
    if name in DOF_INDEX and not name.startswith("pelvis_"):
        new_q = q.copy()
        new_q[DOF_INDEX[name]] = np.radians(target_deg)
        clamped = clamp(model, new_q, (name,))
        applied = float(np.degrees(new_q[DOF_INDEX[name]]))
        return Outcome(new_q, tuple(clamped), not clamped, None, target_deg - applied)
    if name not in DERIVED_ANGLES:
        raise InvalidInputError(f"{name!r} cannot be set; angles: {', '.join(SETTABLE_ANGLES)}")
    if not np.isfinite(derived_angles_deg(model, q[None], (name,))[name][0]):
        raise InvalidInputError(f"{name} is undefined in this pose (ill-conditioned), so it cannot be set")
    problem = _angle_problem(model, q, name, target_deg)
    wanted = np.array(problem.targets)

    def residual(qs: Array) -> Array:
        angles = derived_angles_deg(model, qs, problem.angles)
        # An angle undefined in a trial pose (ill-conditioned) counts as a half-turn off: far, but finite.
        off = np.stack([angles[n] for n in problem.angles], axis=1) - wanted
        return np.asarray(np.nan_to_num(off, nan=180.0), dtype=np.float64)

    x = solve(problem.to_q, residual, problem.start, problem.start.copy(), problem.lower, problem.upper)
    new_q = problem.to_q(x[None])[0]
    warnings: list[str] = []
    violations: list[LimitViolation] = []
    if name != "trunk_lateral_lean":
        violations += hold_thighs(model, q, new_q)
    if name == "pelvis_obliquity" and any(in_contact):
        new_q, slip = hold_feet(model, new_q, model.points(q), in_contact)
        warnings += _slip_warning(slip)
    applied = float(derived_angles_deg(model, new_q[None], (name,))[name][0])
    shortfall = target_deg - applied
    reached = bool(abs(shortfall) <= ANGLE_TOLERANCE_DEG)
    if not reached:
        stopped = at_bound(x, problem.lower, problem.upper)[x.size - len(problem.behind) :]
        limiting = tuple(n for n, hit in zip(problem.behind, stopped, strict=True) if hit)
        violations.insert(0, LimitViolation(name, float(target_deg), applied, -np.inf, np.inf, limiting))
    return Outcome(new_q, tuple(violations), reached, None, shortfall, tuple(warnings))
