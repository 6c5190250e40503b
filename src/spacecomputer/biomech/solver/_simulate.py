"""Forward simulation of a posture with the subject's MuJoCo humanoid: does it hold, or how does it fall.

:func:`hold_posture` simulates a pose from rest for a while, either held by a PD controller at every joint or left
to itself, and says whether it holds and, if not, where and how fast it falls. The humanoid is
:mod:`spacecomputer.biomech.solver._mujoco_model`; the ground reaction of a motion is in
:mod:`spacecomputer.biomech.solver._simulate_motion`.

Definitions (our own)
---------------------
- *Holds*: over the whole run the COM never drops more than :data:`HOLD_COM_DROP_M` below its start along
  ``up``, and no body part but the two feet touches the ground.
- *Where it falls*: the first body part other than the feet to touch the ground, and when; the direction of the
  COM's horizontal travel from the start to that instant, in the pelvis's starting frame made horizontal
  (forward, backward, left, right: the larger component).
- *How fast*: the peak COM speed over the run, and the COM's speed at the first touch (finite differences of
  the COM at every step).

PD controller (our own)
-----------------------
Each angular coordinate's position actuator holds the starting angle: torque ``kp (θ₀ − θ) − kd θ̇`` clipped
to ± that joint's strength, with ``kp = strength / PD_FULL_EFFORT_RAD`` (full strength at that error) and
``kd = kp · PD_DAMPING_TIME_S``. The strengths (:data:`STRENGTH_N_M_PER_KG`, times body mass) are our own
round figures of the order of adults' peak joint torques, not values from a source. The root is unactuated:
the body stands on its feet or does not. The joints give a little under load (the error that makes the torque),
so the COM creeps forward of where it started: on the tests' standing subject, leaning the whole body forward
about the ankles, 5° (COM 6.5 cm behind the toes) holds and 7° (3 cm behind) falls. A person would also move
the centre of pressure and step; this controller only holds the angles.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import mujoco  # type: ignore[import-untyped]
import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._stability import horizontal_axes
from spacecomputer.biomech.solver._dofs import DOF_NAMES
from spacecomputer.biomech.solver._mujoco_mjcf import TIMESTEP_S
from spacecomputer.biomech.solver._mujoco_model import HumanoidModel, build_humanoid
from spacecomputer.biomech.solver._objective_features import STRENGTH_N_M_PER_KG as JOINT_STRENGTH_N_M_PER_KG
from spacecomputer.biomech.solver._session import PoseSession
from spacecomputer.errors import InvalidInputError

__all__ = [
    "HOLD_COM_DROP_M",
    "MAX_DURATION_S",
    "PD_DAMPING_TIME_S",
    "PD_FULL_EFFORT_RAD",
    "STRENGTH_N_M_PER_KG",
    "GroundTouch",
    "PostureResult",
    "hold_posture",
]

HOLD_COM_DROP_M = 0.05
"""Largest COM drop along ``up`` of a posture that holds, m (our own definition)."""
MAX_DURATION_S = 10.0
"""Longest simulation :func:`hold_posture` runs, s (a cost bound of ours)."""
PD_FULL_EFFORT_RAD = 0.05
"""Joint angle error at which the PD controller reaches the joint's strength, rad (our own)."""
PD_DAMPING_TIME_S = 0.05
"""Derivative gain over proportional gain of the PD controller, s (our own)."""
# Flexion/extension takes the optimiser's per-joint strengths (one table of our own constants for the whole lab);
# the other coordinates have our own, smaller round figures.
_LEG = {
    "hip_flexion": JOINT_STRENGTH_N_M_PER_KG["hip"],
    "hip_adduction": 2.0,
    "hip_internal_rotation": 1.0,
    "knee_flexion": JOINT_STRENGTH_N_M_PER_KG["knee"],
    "ankle_dorsiflexion": JOINT_STRENGTH_N_M_PER_KG["ankle"],
}
_ARM = {
    "shoulder_flexion": JOINT_STRENGTH_N_M_PER_KG["shoulder"],
    "shoulder_abduction": 1.0,
    "shoulder_internal_rotation": 0.6,
    "elbow_flexion": JOINT_STRENGTH_N_M_PER_KG["elbow"],
}
STRENGTH_N_M_PER_KG: Mapping[str, float] = {
    "lumbar_bending": 2.0,
    "lumbar_rotation": 1.0,
    "shoulder_line_tilt": 1.0,
    "neck_flexion": 0.4,
    "neck_bending": 0.4,
    "neck_rotation": 0.3,
    **{f"{side}_{joint}": value for side in ("left", "right") for joint, value in _LEG.items()},
    **{f"{side}_{joint}": value for side in ("left", "right") for joint, value in _ARM.items()},
}
"""Peak torque of each joint coordinate per kg of body mass, N·m/kg (our own round figures, module docstring)."""
_DIRECTIONS = ("forward", "backward", "right", "left")


@dataclass(frozen=True)
class GroundTouch:
    """The first body part other than the feet to touch the ground.

    Attributes
    ----------
    segment
        Body part (``"head"``, ``"trunk"``, ``"pelvis"``, ``"left_hand"``, ``"right_thigh"``, …).
    time_s
        Time from the start of the simulation, s.
    com_speed_m_s
        Speed of the whole-body COM at that instant, m/s.

    """

    segment: str
    time_s: float
    com_speed_m_s: float


@dataclass(frozen=True, eq=False)
class PostureResult:
    """Outcome of :func:`hold_posture` (definitions in the module docstring).

    Attributes
    ----------
    held
        The posture holds.
    controller
        ``"pd"`` or ``"passive"``.
    times_s, com_m
        (T,) time of each step, s, and (T, 3) whole-body COM, m, in the pose frame.
    com_drop_m
        Largest drop of the COM below its start along ``up``, m.
    peak_com_speed_m_s
        Largest COM speed over the run, m/s.
    first_touch
        The first body part other than the feet to touch the ground; ``None`` if none did.
    com_travel_m
        (3,) horizontal COM displacement from the start to the first touch (to the end if none), m.
    forward_m, rightward_m
        That displacement along the pelvis's starting anterior and right axes made horizontal, m.
    fall_direction
        ``"forward"``, ``"backward"``, ``"left"`` or ``"right"`` (the larger of the two components) when the
        posture does not hold; ``None`` when it holds.
    saturated
        Coordinates whose PD torque reached the joint's strength at some step (empty for ``"passive"``).
    final_q
        (D,) coordinates at the end, m and rad.

    """

    held: bool
    controller: str
    times_s: NDArray[np.float64]
    com_m: NDArray[np.float64]
    com_drop_m: float
    peak_com_speed_m_s: float
    first_touch: GroundTouch | None
    com_travel_m: NDArray[np.float64]
    forward_m: float
    rightward_m: float
    fall_direction: str | None
    saturated: tuple[str, ...]
    final_q: NDArray[np.float64]

    @property
    def summary(self) -> str:
        """One sentence for a person: holds, or which part touches the ground when, and how fast."""
        seconds = self.times_s[-1]
        if self.held:
            return f"holds for {seconds:.2f} s (COM drop {100 * self.com_drop_m:.1f} cm)"
        touch = self.first_touch
        if touch is None:
            return (
                f"does not hold: falls {self.fall_direction}, the COM {100 * self.com_drop_m:.0f} cm lower within "
                f"{seconds:.2f} s (peak speed {self.peak_com_speed_m_s:.1f} m/s)"
            )
        return (
            f"does not hold: falls {self.fall_direction}, the {touch.segment.replace('_', ' ')} touches the ground "
            f"after {touch.time_s:.2f} s with the COM at {touch.com_speed_m_s:.1f} m/s"
        )


def _pd_model(humanoid: HumanoidModel, controller: str) -> Any:
    """Copy the model and set its actuators for the controller (the shared model is left as it is)."""
    model = copy.copy(humanoid.model)
    if controller == "passive":
        model.opt.disableflags |= mujoco.mjtDisableBit.mjDSBL_ACTUATION
        return model
    for name, index in humanoid.actuator.items():
        strength = STRENGTH_N_M_PER_KG[name] * humanoid.body.mass_kg
        kp = strength / PD_FULL_EFFORT_RAD
        model.actuator_gainprm[index, 0] = kp
        model.actuator_biasprm[index, 1:3] = (-kp, -kp * PD_DAMPING_TIME_S)
        model.actuator_forcelimited[index] = 1
        model.actuator_forcerange[index] = (-strength, strength)
    return model


def _touches(humanoid: HumanoidModel, data: Any) -> list[str]:
    """Body parts other than the feet in contact with the ground (penetrating or touching) in ``data``."""
    out = []
    for g1, g2, dist in zip(data.contact.geom1, data.contact.geom2, data.contact.dist, strict=True):
        other = g2 if g1 == humanoid.ground_geom else g1
        if dist <= 0.0 and other not in humanoid.foot_geoms:
            out.append(humanoid.geom_segment[int(other)])
    return out


def _start(session_or_q: PoseSession | ArrayLike, humanoid: HumanoidModel | None) -> tuple[HumanoidModel, Any]:
    if isinstance(session_or_q, PoseSession):
        session = session_or_q
        if humanoid is None:
            humanoid = build_humanoid(session.model, session.body, ground_level_m=session.statics.ground_level_m)
        return humanoid, session.q
    if humanoid is None:
        raise InvalidInputError("hold_posture needs humanoid= (build_humanoid) when given coordinates, not a session")
    return humanoid, session_or_q


def hold_posture(
    session_or_q: PoseSession | ArrayLike,
    *,
    humanoid: HumanoidModel | None = None,
    duration_s: float = 1.0,
    controller: Literal["pd", "passive"] = "pd",
) -> PostureResult:
    """Simulate a pose from rest and say whether it holds, and if not where and how fast it falls.

    Parameters
    ----------
    session_or_q
        A :class:`PoseSession` (its current pose, on a humanoid built from its skeleton, body model and ground
        level) or (D,) coordinates in ``DOF_NAMES`` order, m and rad (then ``humanoid`` is required).
    humanoid
        The subject's humanoid (:func:`~spacecomputer.biomech.solver._mujoco_model.build_humanoid`).
    duration_s
        Simulated time, s, in (0, :data:`MAX_DURATION_S`].
    controller
        ``"pd"``: every joint held at its starting angle within its strength (module docstring);
        ``"passive"``: no joint torque but the hinges' damping and limits.

    Returns
    -------
    PostureResult
        Holds or not, the first body part to touch the ground, COM drop, travel and speeds.

    Raises
    ------
    InvalidInputError
        ``q`` of the wrong length or not finite, an unknown controller, a duration out of range, or coordinates
        without a humanoid.

    """
    if controller not in ("pd", "passive"):
        raise InvalidInputError(f"controller must be 'pd' or 'passive'; got {controller!r}")
    if not (isinstance(duration_s, int | float) and 0.0 < duration_s <= MAX_DURATION_S):
        raise InvalidInputError(f"duration_s must be in (0, {MAX_DURATION_S:g}] s; got {duration_s!r}")
    humanoid, q = _start(session_or_q, humanoid)
    if np.asarray(q).ndim != 1:
        raise InvalidInputError(f"q must be one pose of shape ({len(DOF_NAMES)},); got {np.shape(q)}")
    model = _pd_model(humanoid, controller)
    data = mujoco.MjData(model)
    data.qpos[:] = humanoid.qpos(q)
    mujoco.mj_forward(model, data)
    for name, index in humanoid.actuator.items():
        data.ctrl[index] = data.qpos[humanoid.hinge_qpos[name]]
    up = humanoid.skeleton.up
    anterior = data.body("pelvis").xmat.reshape(3, 3)[:, 0]
    forward = anterior - (anterior @ up) * up
    norm = float(np.linalg.norm(forward))
    forward = forward / norm if norm > 1e-9 else horizontal_axes(up)[0]
    com, first, saturated = _run(humanoid, model, data, max(1, round(duration_s / TIMESTEP_S)), controller)
    if data.warning[mujoco.mjtWarning.mjWARN_BADQACC].number > 0:
        raise InvalidInputError(
            "the simulation of this pose diverged (MuJoCo met an unbounded acceleration): is the body placed deep "
            "in the ground?",
            details={"time_s": float(data.time)},
        )
    return _posture_result(humanoid, data, controller, com, first, saturated, forward, np.cross(forward, up))


def _run(
    humanoid: HumanoidModel, model: Any, data: Any, steps: int, controller: str
) -> tuple[NDArray[np.float64], tuple[str, int] | None, NDArray[np.bool_]]:
    """Step the simulation: the COM at every step, the first touch (part, step) and the actuators that saturated."""
    com = np.empty((steps + 1, 3))
    com[0] = humanoid.com_m(data)
    touching = _touches(humanoid, data)
    first = (touching[0], 0) if touching else None
    saturated = np.zeros(model.nu, dtype=bool)
    limits = model.actuator_forcerange[:, 1]
    for step in range(1, steps + 1):
        mujoco.mj_step(model, data)
        com[step] = humanoid.com_m(data)
        if controller == "pd":
            saturated |= np.abs(data.actuator_force) >= limits * (1.0 - 1e-9)
        if first is None:
            touching = _touches(humanoid, data)
            first = (touching[0], step) if touching else None
    return com, first, saturated


def _posture_result(
    humanoid: HumanoidModel,
    data: Any,
    controller: str,
    com: NDArray[np.float64],
    first: tuple[str, int] | None,
    saturated: NDArray[np.bool_],
    forward: NDArray[np.float64],
    rightward: NDArray[np.float64],
) -> PostureResult:
    up = humanoid.skeleton.up
    times = np.arange(com.shape[0], dtype=np.float64) * TIMESTEP_S
    speed = np.zeros(com.shape[0])
    if com.shape[0] > 1:
        speed = np.linalg.norm(np.gradient(com, TIMESTEP_S, axis=0), axis=1)
    drop = float(np.max((com[0] - com) @ up))
    end = first[1] if first is not None else com.shape[0] - 1
    travel = com[end] - com[0]
    travel = travel - (travel @ up) * up
    forward_m, rightward_m = float(travel @ forward), float(travel @ rightward)
    held = first is None and drop < HOLD_COM_DROP_M
    direction = None
    if not held:
        components = (forward_m, -forward_m, rightward_m, -rightward_m)
        direction = _DIRECTIONS[int(np.argmax(components))]
    touch = None if first is None else GroundTouch(first[0], float(times[first[1]]), float(speed[first[1]]))
    names = [name for name, index in humanoid.actuator.items() if saturated[index]]
    return PostureResult(
        held=held,
        controller=controller,
        times_s=times,
        com_m=com,
        com_drop_m=drop,
        peak_com_speed_m_s=float(speed.max()),
        first_touch=touch,
        com_travel_m=travel,
        forward_m=forward_m,
        rightward_m=rightward_m,
        fall_direction=direction,
        saturated=tuple(names),
        final_q=humanoid.q_of(np.array(data.qpos)),
    )
