"""What the pose lab's optimiser reports: the optimal poses, metric changes, constraints, and an independent check.

The validity check (:func:`validity_check`) does not trust the optimiser's own kinematics and statics: it rebuilds a
:class:`~spacecomputer.domain.PoseSequence` of each optimal pose (:meth:`SkeletonModel.to_sequence`, the pose held
still over five frames) and recomputes the joint angles (:func:`~spacecomputer.biomech.joint_angles`), the whole-body
COM (:func:`~spacecomputer.biomech.whole_body_com`) and the joint moments (the engine's ground reaction estimate
and :func:`~spacecomputer.biomech.inverse_dynamics`, accelerations zero) with the engine's own functions, then
compares them with what the result predicts, and measures every bone length and joint limit. What the engine
leaves undefined (NaN for an ill-conditioned segment frame) is listed, not compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech._body_model import whole_body_com
from spacecomputer.biomech._events import FootContacts
from spacecomputer.biomech._kinematics import joint_angles
from spacecomputer.biomech._kinetics import estimate_ground_reaction, inverse_dynamics
from spacecomputer.biomech.solver._dofs import DOF_INDEX, JOINT_INDEX
from spacecomputer.biomech.solver._results import AngleChange, Balance, MomentChange
from spacecomputer.biomech.solver._statics import QuasiStatics

__all__ = [
    "ANGLE_TOLERANCE_DEG",
    "BONE_TOLERANCE_M",
    "COM_TOLERANCE_M",
    "MOMENT_TOLERANCE_N_M",
    "ConstraintReport",
    "FrameOutcome",
    "SolveResult",
    "ValidityCheck",
    "validity_check",
]

ANGLE_TOLERANCE_DEG = 0.5
"""Largest disagreement of a recomputed joint angle that passes the validity check, degrees (our own)."""
COM_TOLERANCE_M = 1e-3
"""Largest disagreement of the recomputed COM that passes, m (our own)."""
MOMENT_TOLERANCE_N_M = 0.1
"""Largest disagreement of a recomputed joint moment that passes, N·m (our own)."""
BONE_TOLERANCE_M = 1e-9
"""Largest error of a bone length that passes, m (our own: the skeleton keeps them exactly)."""
_STILL_FRAMES = 5
_LIMIT_SLACK = 1e-9


@dataclass(frozen=True)
class ConstraintReport:
    """A constraint that is active (met with no slack) or violated at the result.

    Attributes
    ----------
    kind
        ``"joint limit"`` or ``"max change"`` (a coordinate on a bound), ``"equality"`` (a task constraint held)
        or ``"inequality"`` (balance, a foot above the ground).
    name
        The coordinate or the constraint in words.
    frame
        Frame of the phase (0 for a single pose).
    amount
        Slack of an active inequality, residual of a held or violated equality, violation of a violated
        inequality; for a bound, the coordinate's value. In ``unit``.
    unit
        ``"m"`` or ``"deg"`` (a foot's roll, an angle on a bound).

    """

    kind: Literal["joint limit", "max change", "equality", "inequality"]
    name: str
    frame: int
    amount: float
    unit: Literal["m", "deg"] = "m"

    def __str__(self) -> str:
        where = f" (frame {self.frame})" if self.frame else ""
        if self.unit == "deg":
            size = f"{self.amount:.2f}°"
        else:
            size = f"{1000 * self.amount:.2f} mm" if abs(self.amount) < 0.1 else f"{self.amount:.3f} m"
        if self.kind in ("joint limit", "max change"):
            return f"{self.name} on its {self.kind} at {size}{where}"
        return f"{self.name}{where}: {size}"


@dataclass(frozen=True)
class ValidityCheck:
    """Independent recomputation of the result with the engine's functions (module docstring).

    Attributes
    ----------
    angle_error_deg
        Largest |engine angle − predicted angle| over the observable joint angles and frames, degrees.
    com_error_m
        Largest distance between the engine's COM and the predicted one, m.
    moment_error_n_m
        Largest |engine moment − predicted quasi-static moment| over joints and frames, N·m.
    bone_error_m
        Largest |bone length − the skeleton's| over the bones and frames, m.
    within_limits
        Every coordinate within its joint limits.
    not_recomputed
        What the engine leaves undefined where the result has a value (an angle or moment of an ill-conditioned
        segment frame, NaN in the engine), ``"left_shoulder moment, frame 0"``: not compared.
    passed
        Every error within its tolerance (:data:`ANGLE_TOLERANCE_DEG`, :data:`COM_TOLERANCE_M`,
        :data:`MOMENT_TOLERANCE_N_M`, :data:`BONE_TOLERANCE_M`) and the limits kept.

    """

    angle_error_deg: float
    com_error_m: float
    moment_error_n_m: float
    bone_error_m: float
    within_limits: bool
    not_recomputed: tuple[str, ...]
    passed: bool


@dataclass(frozen=True, eq=False)
class FrameOutcome:
    """One pose before and after: coordinates, joint centres, balance and the predicted metric changes."""

    q_before: NDArray[np.float64]
    q: NDArray[np.float64]
    pose: Mapping[str, NDArray[np.float64]]
    balance_before: Balance
    balance: Balance
    angle_changes: tuple[AngleChange, ...]
    moment_changes: tuple[MomentChange, ...]


@dataclass(frozen=True, eq=False)
class SolveResult:
    """The outcome of :meth:`~spacecomputer.biomech.solver.BiomechanicalSolver.solve`.

    Attributes
    ----------
    objective, sense, unit
        The objective's name, ``"minimise"`` or ``"maximise"``, and the unit of its values.
    objective_before, objective_after
        Its value at the start and at the result, in ``unit``.
    q
        The optimal coordinates: (D,) for one pose, (F, D) for a phase; m and rad.
    frames
        Each pose before and after (one for a single pose).
    success
        The optimiser converged and every constraint holds.
    infeasible
        Some constraint cannot be met: :attr:`violated` names them; ``q`` is the nearest pose the optimiser
        found (never one with the constraints silently relaxed).
    message
        What happened, in words.
    violated, active
        Violated constraints; active ones (coordinates on a bound, equalities held, inequalities without slack).
    smoothness_before, smoothness_after
        A phase's ``Σ‖q_{t+1} − 2 q_t + q_{t−1}‖²`` (rad²); NaN for a single pose.
    free_dofs
        Coordinates the optimiser could change.
    iterations, evaluations
        Optimiser iterations; batched evaluations of the poses (each gives values and all derivatives).
    elapsed_ms
        Wall time of the solve and its report, validity check included, ms.
    validity
        The independent recomputation.
    warnings
        Anything else worth knowing.

    """

    objective: str
    sense: Literal["minimise", "maximise"]
    unit: str
    objective_before: float
    objective_after: float
    q: NDArray[np.float64]
    frames: tuple[FrameOutcome, ...]
    success: bool
    infeasible: bool
    message: str
    violated: tuple[ConstraintReport, ...]
    active: tuple[ConstraintReport, ...]
    smoothness_before: float
    smoothness_after: float
    free_dofs: tuple[str, ...]
    iterations: int
    evaluations: int
    elapsed_ms: float
    validity: ValidityCheck
    warnings: tuple[str, ...]

    @property
    def improvement(self) -> float:
        """How much better the objective got, in ``unit`` (positive = better, whichever the sense)."""
        change = self.objective_after - self.objective_before
        return -change if self.sense == "minimise" else change

    @property
    def pose(self) -> Mapping[str, NDArray[np.float64]]:
        """Joint centres of the (first) optimal pose, m."""
        return self.frames[0].pose


def _wrapped_deg(value: float) -> float:
    return abs((value + 180.0) % 360.0 - 180.0)


def validity_check(statics: QuasiStatics, q: NDArray[np.float64]) -> ValidityCheck:
    """Recompute the (F, D) poses ``q`` with the engine's own functions and compare (module docstring)."""
    model, body, up = statics.skeleton, statics.body, statics.up
    angle_error = com_error = moment_error = bone_error = 0.0
    skipped: list[str] = []
    predicted_angles = model.engine_angles_deg(q)
    predicted = statics.analyse_q(q)
    middle = _STILL_FRAMES // 2
    for t in range(q.shape[0]):
        still = model.to_sequence(np.repeat(q[t][None], _STILL_FRAMES, axis=0))
        angles = joint_angles(still, up=up)
        for name, series in angles.items():
            if not series.available or (name not in DOF_INDEX and name not in predicted_angles):
                continue
            guess = math.degrees(q[t, DOF_INDEX[name]]) if name in DOF_INDEX else predicted_angles[name][t]
            value = series.values_deg[middle]
            if math.isfinite(value) and math.isfinite(guess):
                angle_error = max(angle_error, _wrapped_deg(value - guess))
            elif math.isfinite(guess):
                skipped.append(f"{name}, frame {t}")
        com = whole_body_com(still, body)[middle]
        com_error = max(com_error, float(np.linalg.norm(com - predicted.com_m[t])))
        touching = np.repeat(predicted.in_contact[t][None], _STILL_FRAMES, axis=0)
        contacts = FootContacts(
            touching,
            np.ones_like(touching),
            np.full(_STILL_FRAMES, statics.ground_level_m),
            still.timestamps_s,
            (),
            None,
        )
        grf = estimate_ground_reaction(still, body, contacts, up=up, gravity_m_s2=statics.gravity_m_s2)
        kinetics = inverse_dynamics(still, body, grf, up=up, gravity_m_s2=statics.gravity_m_s2)
        for joint, k in kinetics.items():
            value, guess = float(k.flexion_moment_n_m[middle]), float(predicted.flexion_moment_n_m[joint][t])
            if math.isfinite(value) and math.isfinite(guess):
                moment_error = max(moment_error, abs(value - guess))
            elif math.isfinite(guess):
                skipped.append(f"{joint} moment, frame {t}")
            elif math.isfinite(value):
                moment_error = math.inf  # the result lacks a moment that the engine has
    points = model.points(q)
    for (a, b), length in model.bone_lengths_m().items():
        span = np.linalg.norm(points[:, JOINT_INDEX[a]] - points[:, JOINT_INDEX[b]], axis=-1)
        bone_error = max(bone_error, float(np.abs(span - length).max()))
    lower, upper = model.bounds()
    within = bool(((q >= lower - _LIMIT_SLACK) & (q <= upper + _LIMIT_SLACK)).all())
    passed = (
        angle_error <= ANGLE_TOLERANCE_DEG
        and com_error <= COM_TOLERANCE_M
        and moment_error <= MOMENT_TOLERANCE_N_M
        and bone_error <= BONE_TOLERANCE_M
        and within
    )
    return ValidityCheck(angle_error, com_error, moment_error, bone_error, within, tuple(skipped), passed)
