"""Inverse-kinematics machinery of the pose lab: bounded least squares, limit clamping, turning the pelvis, holds.

:func:`solve` minimises ``|residual(to_q(x))|² + REGULARISATION² |x − anchor|²`` within box bounds with the
projected Levenberg–Marquardt iteration of :mod:`._lm` (Jacobian by central differences, evaluated as one batch of
poses), the same one that fits the skeleton to a run's frames (:mod:`._fit_batch`). On these small problems (2 to
13 parameters) it converges in a few steps where ``scipy.optimize.least_squares`` took 20 to 40 evaluations near
active bounds or along the weakly regularised redundant directions (trust-region reflective and dogbox, in our
trials while building ``benchmarks/solver_latency.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from spacecomputer.biomech.solver._dofs import DOF_INDEX, JOINT_INDEX, SIDES
from spacecomputer.biomech.solver._geometry import ball_joint_angles, ball_joint_axes
from spacecomputer.biomech.solver._limits import joint_limits
from spacecomputer.biomech.solver._lm import solve_batch
from spacecomputer.biomech.solver._results import LimitViolation
from spacecomputer.biomech.solver._skeleton import SkeletonModel

__all__ = [
    "FOOT",
    "LEG",
    "REGULARISATION",
    "SIGN",
    "Array",
    "ToQ",
    "at_bound",
    "clamp",
    "columns",
    "hip_line",
    "hold_feet",
    "hold_thighs",
    "solve",
    "turned_root",
    "violation",
]

Array = NDArray[np.float64]
ToQ = Callable[[Array], Array]
REGULARISATION = 1e-3
"""Weight of the change of the free coordinates in the least squares, m per rad (our own; see ``_manipulate``)."""
SIGN = {"left": -1.0, "right": 1.0}
LEG = ("hip_flexion", "hip_adduction", "hip_internal_rotation", "knee_flexion", "ankle_dorsiflexion")
FOOT = ("heel", "ankle", "foot_index")
_STEP = 1e-6
_MAX_ITERATIONS = 100
"""Iterations of one edit at most (a refused step counts as one)."""
_STEP_TOLERANCE = 1e-13
_COST_TOLERANCE = 1e-10
"""Stop when a step lowers the cost by less than this fraction of it (the pose no longer changes visibly)."""
_AT_BOUND = 1e-7


def violation(name: str, requested_deg: float, applied_deg: float) -> LimitViolation:
    """Return a :class:`LimitViolation` of coordinate ``name`` with its range from the limits table."""
    limit = joint_limits().get(name)
    lower, upper = (limit.lower, limit.upper) if limit is not None else (-np.inf, np.inf)
    return LimitViolation(name, float(requested_deg), float(applied_deg), lower, upper)


def clamp(model: SkeletonModel, q: Array, names: tuple[str, ...]) -> list[LimitViolation]:
    """Clamp the named coordinates of (D,) ``q`` in place to their limits; return the violations."""
    lower, upper = model.bounds()
    out = []
    for name in names:
        i = DOF_INDEX[name]
        if not lower[i] <= q[i] <= upper[i]:
            requested = float(np.degrees(q[i]))
            q[i] = min(max(q[i], lower[i]), upper[i])
            out.append(violation(name, requested, float(np.degrees(q[i]))))
    return out


def columns(q: Array, names: tuple[str, ...]) -> ToQ:
    """``to_q`` for free parameters that are the coordinates ``names`` of (D,) ``q``."""
    idx = [DOF_INDEX[n] for n in names]

    def to_q(x: Array) -> Array:
        out = np.repeat(q[None], x.shape[0], axis=0)
        out[:, idx] = x
        return out

    return to_q


def at_bound(x: Array, lower: Array, upper: Array) -> NDArray[np.bool_]:
    """Which parameters sit on a bound (within a numerical tolerance)."""
    return np.asarray((x - lower <= _AT_BOUND) | (upper - x <= _AT_BOUND), dtype=np.bool_)


def solve(
    to_q: ToQ,
    residual: Callable[[Array], Array],
    start: Array,
    anchor: Array,
    lower: Array,
    upper: Array,
    *,
    max_iterations: int = _MAX_ITERATIONS,
) -> Array:
    """Return the bounded, regularised least-squares solution (module docstring); ``residual`` maps (M, D) → (M, r)."""

    def residuals(x: Array, _problems: NDArray[np.intp]) -> Array:
        return np.concatenate([residual(to_q(x)), REGULARISATION * (x - anchor)], axis=1)

    solution = solve_batch(
        residuals,
        np.asarray(start, dtype=np.float64)[None],
        lower,
        upper,
        relative_tolerance=_COST_TOLERANCE,
        step_tolerance=_STEP_TOLERANCE,
        max_iterations=max_iterations,
        difference_step=_STEP,
    )
    return np.asarray(solution.x[0], dtype=np.float64)


def turned_root(model: SkeletonModel, q: Array, axis: Array, angles: Array) -> Array:
    """(M, D) copies of (D,) ``q`` with the pelvis frame turned by each angle (rad) about the unit ``axis``.

    The mid-hip stays where it is.
    """
    _, pelvis = model.pelvis_frame(q[None])
    turned = Rotation.from_rotvec(angles[:, None] * axis[None]).as_matrix() @ np.stack(pelvis, axis=2)[0]
    out = np.repeat(q[None], angles.size, axis=0)
    local = np.einsum("ji,mjk->mik", model.reference_axes, turned)
    out[:, DOF_INDEX["pelvis_rot_x"] : DOF_INDEX["pelvis_rot_z"] + 1] = Rotation.from_matrix(local).as_rotvec()
    return out


def hip_line(model: SkeletonModel, q: Array) -> Array:
    """Return the unit left → right hip vector of (D,) ``q``."""
    pts = model.points(q)
    line = pts[JOINT_INDEX["right_hip"]] - pts[JOINT_INDEX["left_hip"]]
    return np.asarray(line / np.linalg.norm(line), dtype=np.float64)


def hold_thighs(model: SkeletonModel, before: Array, after: Array) -> list[LimitViolation]:
    """Give (D,) ``after`` the hip angles that keep each thigh's orientation of ``before``; clamp them."""
    _, old_pelvis = model.pelvis_frame(before[None])
    _, new_pelvis = model.pelvis_frame(after[None])
    names: list[str] = []
    for side in SIDES:
        hip = [DOF_INDEX[f"{side}_{n}"] for n in LEG[:3]]
        angles = (
            before[None, hip[0] : hip[0] + 1],
            -before[None, hip[1] : hip[1] + 1],
            before[None, hip[2] : hip[2] + 1],
        )
        front, long_axis, _ = ball_joint_axes(old_pelvis, SIGN[side], *angles)
        flexion, lateral, rotation = ball_joint_angles(new_pelvis, SIGN[side], long_axis, front)
        after[hip] = flexion[0], -lateral[0], rotation[0]
        names += [f"{side}_{n}" for n in LEG[:3]]
    return clamp(model, after, tuple(names))


def hold_feet(model: SkeletonModel, q: Array, original: Array, in_contact: tuple[bool, bool]) -> tuple[Array, float]:
    """Move the legs of the feet in contact so that their heel, ankle and toe return to the ``original`` points.

    Returns the coordinates and the largest distance a held point is left from its place, m.
    """
    names = tuple(f"{s}_{n}" for s, touching in zip(SIDES, in_contact, strict=True) if touching for n in LEG)
    rows = [JOINT_INDEX[f"{s}_{p}"] for s, on in zip(SIDES, in_contact, strict=True) if on for p in FOOT]
    idx = [DOF_INDEX[n] for n in names]
    lower, upper = model.bounds()

    def residual(qs: Array) -> Array:
        moved = model._points(qs, parts=("legs",))[:, rows]
        return np.asarray((moved - original[rows]).reshape(qs.shape[0], -1), dtype=np.float64)

    x = solve(columns(q, names), residual, q[idx], q[idx].copy(), lower[idx], upper[idx])
    out = columns(q, names)(x[None])[0]
    return out, float(np.linalg.norm(model.points(out)[rows] - original[rows], axis=1).max())
