"""The four objectives of the pose lab's optimiser: joint stress, power output, energy efficiency, injury risk.

Every objective is computed from the quasi-static analysis of skeleton poses
(:class:`~spacecomputer.biomech.solver.QuasiStatics`: flexion moments, COM, contacts) and from the engine's own
risk measures. A single pose and a phase (a short trajectory of poses, ``fps`` frames per second) each have a
value; the optimiser minimises ``value`` or ``−value`` as :attr:`Objective.sense` says.

==================  ============  ==========================================  ===================================
objective           sense         pose                                        phase
==================  ============  ==========================================  ===================================
``joint_stress``    minimise      ``Σ_j (M_j / S_j)²``, dimensionless         mean of the pose value over frames
``power_output``    maximise      push-off range ``Σ_legs (thigh + shank −    positive joint work
                                  |hip − ankle|)`` of the stance legs, m      ``Σ_t Σ_j max(M_j ω_j, 0) Δt``, J
``energy_eff…``     minimise      static cost ``Σ_j M_j²``, N²·m²             cost of transport ``Σ|M_j ω_j| Δt /
                                                                              (m g · COM path)``, dimensionless
``injury_risk``     minimise      ``Σ_i max(0, (v_i − yellow_i) /             mean of the pose value over frames
                                  (red_i − yellow_i))²``, dimensionless
==================  ============  ==========================================  ===================================

- ``M_j``: the quasi-static flexion moment of joint ``j`` (:data:`~spacecomputer.biomech.JOINTS`), N·m; ``S_j``
  the joint's strength, :data:`STRENGTH_N_M_PER_KG` × body mass (our own normalisation constants, not measured
  strengths: see there). The moment-based terms may be restricted to some joints (``joints``).
- *Push-off range* (our own proxy of a still pose's power capacity): the work the leg extensors can do in a
  push-off at a given force is that force times the distance over which the legs can still extend, which is the
  shortfall of each stance leg's hip-to-ankle distance from its straight length. It is a geometric proxy: it
  ignores that muscles are weaker at long lengths. Stance legs: the feet in contact.
- *Joint power* (phase; our own flexion-axis proxy of the engine's ``power_w``): ``M_j × ω_j`` with ``ω_j`` the
  rate of the matching angle by finite differences between frames, signed so that a moment turning the joint
  its own way is positive (hip, knee: extension rate; ankle: plantarflexion rate; shoulder, elbow: flexion rate);
  moments at the frames' midpoints (mean of the two frames). The wrist has no coordinate (no power). The moments
  are quasi-static: accelerations are ignored. ``max(P, 0)`` and ``|P|`` are smoothed over
  :data:`POWER_SMOOTHING_W` so that the optimiser's gradients are continuous.
- *Cost of transport* (phase; our own proxy): the mechanical work ``Σ|M ω| Δt`` over the body weight times the
  path length of the COM (at least :data:`MIN_COM_PATH_M`, so a phase in place does not divide by zero).
- *Injury risk*: the engine's indicators that a pose has (:mod:`spacecomputer.biomech._risk`): each knee's
  frontal-plane projection angle (valgus, deg), the trunk's lateral lean ``|trunk_lateral_lean|`` (deg) and each
  knee's extensor moment per kg (quasi-static, N·m/kg), each penalised above its yellow threshold of
  :data:`~spacecomputer.biomech.RISK_THRESHOLDS` (1 at the red threshold, 0 at or below yellow). An FPPA that the
  engine leaves undefined (NaN) adds nothing. A pose below every yellow threshold has zero risk.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._events import FEET
from spacecomputer.biomech._kinetics import JOINTS
from spacecomputer.biomech._risk_thresholds import RISK_THRESHOLDS
from spacecomputer.biomech.solver._dofs import DOF_INDEX
from spacecomputer.biomech.solver._objective_features import (
    STRENGTH_N_M_PER_KG,
    ObjectiveContext,
    PoseFeatures,
    pose_features,
)
from spacecomputer.biomech.solver._statics import QuasiStatics
from spacecomputer.errors import InvalidInputError

__all__ = [
    "MIN_COM_PATH_M",
    "OBJECTIVES",
    "POWER_SMOOTHING_W",
    "SCALE_MOVE_RAD",
    "STRENGTH_N_M_PER_KG",
    "Objective",
    "ObjectiveContext",
    "PoseFeatures",
    "cost_of_transport",
    "energy_efficiency",
    "injury_risk",
    "joint_stress",
    "objective_named",
    "pose_features",
    "positive_work_j",
    "power_output",
]

Array = NDArray[np.float64]

MIN_COM_PATH_M = 0.01
"""Least COM path length the cost of transport divides by, m (our own floor)."""
SCALE_MOVE_RAD = 0.1
"""The move, rad (or m), over which the objective's change sets its scale when that beats its value (our own)."""
POWER_SMOOTHING_W = 1.0
"""Width ε over which the phase's ``max(P, 0)`` and ``|P|`` are smoothed, W (our own): continuous gradients for the
optimiser; each joint's term differs from the exact one by less than ε (``|P|``) or ε/2 (``max(P, 0)``)."""

# Joint → (coordinate whose rate is the joint's own turning direction, sign), for the phase's joint power.
_RATES = (
    ("hip", "hip_flexion", -1.0),
    ("knee", "knee_flexion", -1.0),
    ("ankle", "ankle_dorsiflexion", -1.0),
    ("shoulder", "shoulder_flexion", 1.0),
    ("elbow", "elbow_flexion", 1.0),
)
_POWER_RATE = {f"{side}_{joint}": (f"{side}_{dof}", sign) for side in FEET for joint, dof, sign in _RATES}
_KNEES = np.array([JOINTS.index(f"{side}_knee") for side in FEET])


Value = Callable[[PoseFeatures, ObjectiveContext], Array]
"""An objective's value on features with a frame axis: (…, F, …) in, (…,) out."""


# --- values on features: (…, F, …) arrays in, (…,) out (a single pose is a phase of one frame) -----------------


def _stress(f: PoseFeatures, c: ObjectiveContext) -> Array:
    """(…, F) Σ_j w_j (M_j / S_j)² per frame."""
    return np.asarray(((f.moment_n_m / c.strength_n_m) ** 2 * c.joint_weights).sum(axis=-1), dtype=np.float64)


def _static_cost(f: PoseFeatures, c: ObjectiveContext) -> Array:
    return np.asarray((f.moment_n_m**2 * c.joint_weights).sum(axis=-1), dtype=np.float64)


def _push_off(f: PoseFeatures, c: ObjectiveContext) -> Array:
    stance = f.in_contact if c.stance is None else c.stance
    return np.asarray((f.leg_shortfall_m * stance).sum(axis=-1), dtype=np.float64)


def _risk(f: PoseFeatures, c: ObjectiveContext) -> Array:
    def excess(value: Array, family: str) -> Array:
        spec = RISK_THRESHOLDS[family]
        above = np.maximum(np.nan_to_num(value, nan=spec.yellow) - spec.yellow, 0.0)
        return np.asarray((above / (spec.red - spec.yellow)) ** 2, dtype=np.float64)

    knee = f.moment_n_m[..., _KNEES] / c.mass_kg
    total = excess(f.fppa_deg, "knee_frontal_plane_projection_angle").sum(axis=-1)
    total = total + excess(np.abs(f.trunk_lateral_lean_deg), "trunk_lateral_lean_peak")
    return np.asarray(total + excess(knee, "peak_knee_extensor_moment_per_kg").sum(axis=-1), dtype=np.float64)


def _joint_power_w(f: PoseFeatures, c: ObjectiveContext) -> Array:
    """(…, F − 1, J) joint power between consecutive frames, W (module docstring), weighted by the joints counted."""
    moment = 0.5 * (f.moment_n_m[..., 1:, :] + f.moment_n_m[..., :-1, :])
    rate = np.zeros_like(moment)
    for j, joint in enumerate(JOINTS):
        if joint in _POWER_RATE and c.joint_weights[j] > 0:
            dof, sign = _POWER_RATE[joint]
            angle = f.q[..., DOF_INDEX[dof]]
            rate[..., j] = sign * (angle[..., 1:] - angle[..., :-1]) / c.dt_s
    return np.asarray(moment * rate, dtype=np.float64)


def _magnitude(power: Array) -> Array:
    """|P| smoothed over :data:`POWER_SMOOTHING_W`: ``sqrt(P² + ε²) − ε`` (within ε of |P|, 0 at 0)."""
    return np.asarray(np.sqrt(power * power + POWER_SMOOTHING_W**2) - POWER_SMOOTHING_W, dtype=np.float64)


def _positive_work(f: PoseFeatures, c: ObjectiveContext) -> Array:
    power = _joint_power_w(f, c)
    positive = 0.5 * (power + _magnitude(power))  # max(P, 0) smoothed: within ε/2 of it
    return np.asarray(positive.sum(axis=(-1, -2)) * c.dt_s, dtype=np.float64)


def _transport_cost(f: PoseFeatures, c: ObjectiveContext) -> Array:
    work = _magnitude(_joint_power_w(f, c)).sum(axis=(-1, -2)) * c.dt_s
    step = np.diff(f.com_m, axis=-2)
    path = np.maximum(np.sqrt((step * step).sum(axis=-1)).sum(axis=-1), MIN_COM_PATH_M)
    return np.asarray(work / (c.weight_n * path), dtype=np.float64)


def _first(value: Value) -> Value:
    return lambda f, c: np.asarray(value(f, c)[..., 0], dtype=np.float64)


def _mean(value: Value) -> Value:
    return lambda f, c: np.asarray(value(f, c).mean(axis=-1), dtype=np.float64)


@dataclass(frozen=True)
class Objective:
    """One objective: its name, sense, units and values (module docstring).

    ``pose`` and ``phase`` take :class:`PoseFeatures` with a frame axis (``(…, 1, …)`` for a pose, ``(…, F, …)``
    for a phase) and return ``(…,)`` values in the natural units, to be minimised or maximised as ``sense`` says.
    ``resolution`` (pose, phase) is the smallest value we treat as meaningful (our own): the optimiser never scales
    the objective by less (:meth:`scale`), so that a start at (numerically) zero is not blown up.
    """

    name: str
    sense: Literal["minimise", "maximise"]
    pose_unit: str
    phase_unit: str
    pose_meaning: str
    phase_meaning: str
    uses_risk: bool
    pose: Value
    phase: Value
    resolution: tuple[float, float]

    def scale(self, value: float, slope: float, *, phase: bool) -> float:
        """Return the optimiser's divisor: the objective's size at the start (``value``, with its largest ``slope``).

        The larger of ``|value|``, its change over :data:`SCALE_MOVE_RAD` of the coordinate it is steepest in (a
        start near zero of an objective to maximise, a straight leg's push-off range, would otherwise blow the
        gradients up), and :attr:`resolution` (pose, phase).
        """
        return max(abs(value), SCALE_MOVE_RAD * slope, self.resolution[1 if phase else 0])

    @property
    def sign(self) -> float:
        """+1 to minimise, −1 to maximise: the optimiser minimises ``sign × value``."""
        return 1.0 if self.sense == "minimise" else -1.0


OBJECTIVES: Mapping[str, Objective] = MappingProxyType({
    "joint_stress": Objective(
        "joint_stress", "minimise", "1", "1",
        "Σ (M/S)², quasi-static moments over joint strengths", "mean over frames of Σ (M/S)²",
        False, _first(_stress), _mean(_stress), (1e-6, 1e-6),
    ),
    "power_output": Objective(
        "power_output", "maximise", "m", "J",
        "push-off range of the stance legs (extension still available)", "positive joint work Σ max(M·ω, 0) Δt",
        False, _first(_push_off), _positive_work, (1e-4, 1e-3),
    ),
    "energy_efficiency": Objective(
        "energy_efficiency", "minimise", "N²·m²", "1",
        "static cost Σ M²", "cost of transport Σ|M·ω|Δt / (m g · COM path)",
        False, _first(_static_cost), _transport_cost, (1e-2, 1e-6),
    ),
    "injury_risk": Objective(
        "injury_risk", "minimise", "1", "1",
        "risk penalties above the yellow thresholds (knee FPPA, trunk lean, knee extensor moment)",
        "mean over frames of the risk penalties",
        True, _first(_risk), _mean(_risk), (1e-6, 1e-6),
    ),
})  # fmt: skip
"""The objectives by name."""


def objective_named(name: str) -> Objective:
    """Return the objective called ``name``.

    Raises
    ------
    InvalidInputError
        An unknown name; the message lists the valid ones.

    """
    if name not in OBJECTIVES:
        raise InvalidInputError(
            f"unknown objective {name!r}; valid objectives: {', '.join(OBJECTIVES)}",
            details={"objective": name, "valid": list(OBJECTIVES)},
        )
    return OBJECTIVES[name]


# --- functions of q for notebooks and tests -------------------------------------------------------------------


def _poses(statics: QuasiStatics, q: ArrayLike, *, risk: bool) -> PoseFeatures:
    return pose_features(statics, statics.skeleton.coordinates(q), risk=risk).map(lambda a: a[:, None])


def _frames(statics: QuasiStatics, frames_q: ArrayLike) -> PoseFeatures:
    array = np.asarray(frames_q, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise InvalidInputError(f"a trajectory is (F, D) coordinates with F ≥ 2 frames; got shape {array.shape}")
    return pose_features(statics, statics.skeleton.coordinates(array), risk=False)


def joint_stress(
    statics: QuasiStatics,
    q: ArrayLike,
    *,
    strength_n_m_per_kg: Mapping[str, float] | None = None,
    joints: tuple[str, ...] | None = None,
) -> Array:
    """Return ``Σ_j (M_j / S_j)²`` of each pose of (D,) or (N, D) ``q``, (N,), dimensionless.

    ``M_j`` are the quasi-static flexion moments, ``S_j`` the strengths (:data:`STRENGTH_N_M_PER_KG` × mass, with
    ``strength_n_m_per_kg`` overriding joint kinds); ``joints`` restricts the sum (default: every joint).
    """
    context = ObjectiveContext.of(statics, strength_n_m_per_kg=strength_n_m_per_kg, joints=joints)
    return OBJECTIVES["joint_stress"].pose(_poses(statics, q, risk=False), context)


def power_output(statics: QuasiStatics, q: ArrayLike) -> Array:
    """Return the push-off range of each pose, (N,), m: ``Σ (thigh + shank − |hip − ankle|)`` over its stance legs."""
    return OBJECTIVES["power_output"].pose(_poses(statics, q, risk=False), ObjectiveContext.of(statics))


def energy_efficiency(statics: QuasiStatics, q: ArrayLike, *, joints: tuple[str, ...] | None = None) -> Array:
    """Return the static cost ``Σ_j M_j²`` of each pose, (N,), N²·m² (lower is more economical)."""
    context = ObjectiveContext.of(statics, joints=joints)
    return OBJECTIVES["energy_efficiency"].pose(_poses(statics, q, risk=False), context)


def injury_risk(statics: QuasiStatics, q: ArrayLike) -> Array:
    """Return the risk penalty of each pose, (N,), dimensionless: 0 below every yellow threshold, 1 per red one."""
    return OBJECTIVES["injury_risk"].pose(_poses(statics, q, risk=True), ObjectiveContext.of(statics))


def positive_work_j(
    statics: QuasiStatics, frames_q: ArrayLike, *, fps: float, joints: tuple[str, ...] | None = None
) -> float:
    """Return the positive joint work ``Σ_t Σ_j max(M_j ω_j, 0) Δt`` of an (F, D) trajectory at ``fps``, J."""
    context = ObjectiveContext.of(statics, joints=joints, fps=fps)
    return float(OBJECTIVES["power_output"].phase(_frames(statics, frames_q), context))


def cost_of_transport(
    statics: QuasiStatics, frames_q: ArrayLike, *, fps: float, joints: tuple[str, ...] | None = None
) -> float:
    """Return ``Σ|M_j ω_j| Δt / (m g · COM path)`` of an (F, D) trajectory at ``fps``, dimensionless."""
    context = ObjectiveContext.of(statics, joints=joints, fps=fps)
    return float(OBJECTIVES["energy_efficiency"].phase(_frames(statics, frames_q), context))
