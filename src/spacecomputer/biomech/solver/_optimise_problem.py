"""What the pose lab's optimiser is asked: an objective, what to preserve, task constraints, an optional phase.

Names that can be preserved (:data:`PRESERVABLE`): any coordinate of :data:`~spacecomputer.biomech.solver.DOF_NAMES`,
or a joint, which preserves all of its coordinates: ``{side}_hip`` (flexion, adduction, internal rotation),
``{side}_knee``, ``{side}_ankle``, ``{side}_shoulder`` (flexion, abduction, internal rotation), ``{side}_elbow``,
``neck`` (its three angles), ``lumbar`` (bending, rotation and the shoulder-line tilt) and ``pelvis`` (the root's
position and orientation). A preserved coordinate keeps its starting value; the others are free within their joint
limits (and :attr:`OptimisationProblem.max_change_deg` / ``max_shift_m`` of their start).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from spacecomputer.biomech._events import FEET
from spacecomputer.biomech.solver._dofs import DOF_NAMES, JOINT_NAMES
from spacecomputer.biomech.solver._objectives import Objective, objective_named
from spacecomputer.errors import InvalidInputError

__all__ = [
    "MAX_PHASE_FRAMES",
    "MIN_PHASE_FRAMES",
    "PRESERVABLE",
    "KeepFootOnGround",
    "KeepPointAt",
    "OptimisationProblem",
    "Phase",
    "TaskConstraint",
]

MAX_PHASE_FRAMES = 15
"""Most frames a phase may have (the optimiser's cost grows with the cube of its unknowns)."""
MIN_PHASE_FRAMES = 3
"""Fewest frames of a phase (its smoothness term is a second difference)."""

_GROUPS = {
    **{
        f"{side}_{joint}": tuple(f"{side}_{dof}" for dof in dofs)
        for side in FEET
        for joint, dofs in (
            ("hip", ("hip_flexion", "hip_adduction", "hip_internal_rotation")),
            ("knee", ("knee_flexion",)),
            ("ankle", ("ankle_dorsiflexion",)),
            ("shoulder", ("shoulder_flexion", "shoulder_abduction", "shoulder_internal_rotation")),
            ("elbow", ("elbow_flexion",)),
        )
    },
    "neck": ("neck_flexion", "neck_bending", "neck_rotation"),
    "lumbar": ("lumbar_bending", "lumbar_rotation", "shoulder_line_tilt"),
    "pelvis": DOF_NAMES[:6],
}
PRESERVABLE: Mapping[str, tuple[str, ...]] = MappingProxyType({**{n: (n,) for n in DOF_NAMES}, **_GROUPS})
"""Name that may be preserved → the coordinates it fixes (module docstring)."""


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class KeepPointAt:
    """Keep a skeleton point at a height above the ground or at a position (an equality constraint).

    Parameters
    ----------
    name
        A point of :data:`~spacecomputer.biomech.solver.JOINT_NAMES` (``left_hand``, ``nose``, …).
    height_m
        Height above the ground level, m (along ``up``); the point may move horizontally.
    position_m
        (3,) position in the pose frame, m. Give exactly one of ``height_m`` and ``position_m``.

    """

    name: str
    height_m: float | None = None
    position_m: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        if self.name not in JOINT_NAMES:
            raise InvalidInputError(
                f"unknown point {self.name!r}; valid points: {', '.join(JOINT_NAMES)}",
                details={"name": self.name, "valid": list(JOINT_NAMES)},
            )
        if (self.height_m is None) == (self.position_m is None):
            raise InvalidInputError(f"keep {self.name} at a height_m or a position_m: give exactly one")
        if self.height_m is not None and not _finite(self.height_m):
            raise InvalidInputError(f"the height of {self.name} must be a finite number of metres; got {self.height_m}")
        if self.position_m is not None:
            position = np.asarray(self.position_m, dtype=np.float64)
            if position.shape != (3,) or not np.isfinite(position).all():
                raise InvalidInputError(
                    f"the position of {self.name} must be three finite coordinates in metres; got {self.position_m!r}"
                )
            object.__setattr__(self, "position_m", (float(position[0]), float(position[1]), float(position[2])))

    def __str__(self) -> str:
        if self.height_m is not None:
            return f"keep {self.name} at {self.height_m:.3f} m above the ground"
        x, y, z = self.position_m or (math.nan,) * 3
        return f"keep {self.name} at ({x:.3f}, {y:.3f}, {z:.3f}) m"


@dataclass(frozen=True)
class KeepFootOnGround:
    """Keep a foot planted where it is: heel, toe and ankle stay at their places of the starting pose.

    In a phase the foot is held, in each frame where it touches the ground in the starting trajectory, at its place
    in that frame; a problem where it touches the ground in no frame is refused by the solver.
    """

    side: Literal["left", "right"]

    def __post_init__(self) -> None:
        if self.side not in FEET:
            raise InvalidInputError(f"a foot is 'left' or 'right'; got {self.side!r}", details={"side": self.side})

    def __str__(self) -> str:
        return f"keep the {self.side} foot on the ground"


TaskConstraint = KeepPointAt | KeepFootOnGround


@dataclass(frozen=True, eq=False)
class Phase:
    """A short trajectory to optimise as a whole: its starting frames and the weight of its smoothness.

    Parameters
    ----------
    q
        (F, D) starting coordinates of each frame, m and rad, ``MIN_PHASE_FRAMES ≤ F ≤ MAX_PHASE_FRAMES``.
    fps
        Frames per second of the trajectory.
    smoothness_weight
        Weight ``w`` of ``w Σ_t ‖q_{t+1} − 2 q_t + q_{t−1}‖²`` (rad², with metres for the pelvis position: 1 m
        counts as 1 rad, our own choice), added to the objective scaled to ±1 at the start.

    """

    q: NDArray[np.float64]
    fps: float
    smoothness_weight: float = 1.0

    def __post_init__(self) -> None:
        q = np.array(self.q, dtype=np.float64)
        frames = q.shape[0] if q.ndim == 2 else 0
        if q.ndim != 2 or q.shape[1] != len(DOF_NAMES) or not MIN_PHASE_FRAMES <= frames <= MAX_PHASE_FRAMES:
            raise InvalidInputError(
                f"a phase is (F, {len(DOF_NAMES)}) coordinates with {MIN_PHASE_FRAMES} ≤ F ≤ {MAX_PHASE_FRAMES}; "
                f"got shape {q.shape}",
                details={"shape": list(q.shape)},
            )
        if not np.isfinite(q).all():
            raise InvalidInputError("the phase's coordinates must be finite (no NaN or infinity)")
        if not (_finite(self.fps) and self.fps > 0):
            raise InvalidInputError(f"the phase's fps must be a finite positive number; got {self.fps!r}")
        if not (_finite(self.smoothness_weight) and self.smoothness_weight >= 0):
            raise InvalidInputError(f"smoothness_weight must be finite and ≥ 0; got {self.smoothness_weight!r}")
        q.setflags(write=False)
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "fps", float(self.fps))
        object.__setattr__(self, "smoothness_weight", float(self.smoothness_weight))


@dataclass(frozen=True, eq=False)
class OptimisationProblem:
    """An optimisation of one pose (or of a :class:`Phase`) under physical and task constraints.

    Parameters
    ----------
    objective
        A name of :data:`~spacecomputer.biomech.solver.OBJECTIVES`.
    preserve
        Coordinates or joints that keep their starting values (:data:`PRESERVABLE`).
    keep
        Task constraints: :class:`KeepPointAt`, :class:`KeepFootOnGround`.
    balance_required
        The COM's ground projection must lie inside the base of support by at least ``balance_margin_m`` (in
        every frame with a foot on the ground at the start). With one foot on the ground the base of support has no
        width (the statics' caveat), so only a margin ≤ 0 can be met.
    balance_margin_m
        Required signed distance from the COM's projection to the base of support's boundary, m.
    max_change_deg
        Largest change of any free angle from its start, degrees (``None``: the joint limits only).
    max_shift_m
        Largest change of each pelvis position coordinate from its start, m (``None``: free).
    joints
        Joints whose moments the moment-based objectives count (``joint_stress``, ``energy_efficiency``, the
        phase's joint power); default every joint.
    strength_n_m_per_kg
        Joint kind → strength, N·m/kg, replacing :data:`~spacecomputer.biomech.solver.STRENGTH_N_M_PER_KG` values.
    phase
        Optimise this trajectory instead of one pose.

    Raises
    ------
    InvalidInputError
        An unknown objective, name to preserve or constraint (the message lists the valid ones), a NaN or
        infinite number, or a negative or zero limit.

    """

    objective: str
    preserve: tuple[str, ...] = ()
    keep: tuple[TaskConstraint, ...] = ()
    balance_required: bool = True
    balance_margin_m: float = 0.0
    max_change_deg: float | None = None
    max_shift_m: float | None = None
    joints: tuple[str, ...] | None = None
    strength_n_m_per_kg: Mapping[str, float] | None = None
    phase: Phase | None = None
    spec: Objective = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", objective_named(self.objective))
        preserve = (self.preserve,) if isinstance(self.preserve, str) else tuple(self.preserve)
        unknown = [name for name in preserve if name not in PRESERVABLE]
        if unknown:
            raise InvalidInputError(
                f"cannot preserve unknown {unknown}; valid names: the joints {', '.join(_GROUPS)} or a coordinate "
                f"({', '.join(DOF_NAMES)})",
                details={"unknown": unknown, "valid": list(PRESERVABLE)},
            )
        keep = tuple(self.keep)
        strange = [repr(k) for k in keep if not isinstance(k, KeepPointAt | KeepFootOnGround)]
        if strange:
            raise InvalidInputError(f"task constraints are KeepPointAt or KeepFootOnGround; got {', '.join(strange)}")
        if not _finite(self.balance_margin_m):
            raise InvalidInputError(f"balance_margin_m must be a finite number of metres; got {self.balance_margin_m}")
        for name in ("max_change_deg", "max_shift_m"):
            value = getattr(self, name)
            if value is not None and not (_finite(value) and value > 0):
                raise InvalidInputError(f"{name} must be a finite positive number or None; got {value!r}")
        object.__setattr__(self, "preserve", preserve)
        object.__setattr__(self, "keep", keep)
        if self.joints is not None:
            object.__setattr__(self, "joints", (self.joints,) if isinstance(self.joints, str) else tuple(self.joints))

    @property
    def preserved_dofs(self) -> tuple[str, ...]:
        """Coordinates fixed at their start, in :data:`DOF_NAMES` order."""
        fixed = {dof for name in self.preserve for dof in PRESERVABLE[name]}
        return tuple(n for n in DOF_NAMES if n in fixed)

    @property
    def free_dofs(self) -> tuple[str, ...]:
        """Coordinates the optimiser may change, in :data:`DOF_NAMES` order."""
        fixed = set(self.preserved_dofs)
        return tuple(n for n in DOF_NAMES if n not in fixed)

    def start_of(self, q: ArrayLike | None) -> NDArray[np.float64]:
        """Return the (F, D) starting coordinates: the phase's, else the one pose ``q`` as one frame."""
        if self.phase is not None:
            return np.array(self.phase.q)
        if q is None:
            raise InvalidInputError("a single-pose problem needs its starting pose q (or a session)")
        array = np.asarray(q, dtype=np.float64)
        if array.shape != (len(DOF_NAMES),):
            raise InvalidInputError(f"the starting pose q must have shape ({len(DOF_NAMES)},); got {array.shape}")
        if not np.isfinite(array).all():
            raise InvalidInputError("the starting pose q must be finite (no NaN or infinity)")
        return array[None].copy()
