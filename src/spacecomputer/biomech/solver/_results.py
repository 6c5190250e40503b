"""What a pose session reports: limit violations, balance, ground reaction, angle and moment changes, results."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from spacecomputer.biomech.solver._statics import MOMENT_MEANINGS

__all__ = [
    "AngleChange",
    "Balance",
    "FrameGroundReaction",
    "LimitViolation",
    "ManipulationResult",
    "MomentChange",
    "PoseComparison",
    "moment_change",
]

LOAD_TOLERANCE_N_M = 1e-6
"""Moment magnitudes closer than this count as unchanged (a numerical tolerance of ours)."""


@dataclass(frozen=True)
class LimitViolation:
    """A value that had to be moved back inside its range of motion.

    Attributes
    ----------
    name
        Degree of freedom or angle (``left_knee_flexion``).
    requested_deg
        What the manipulation asked for (for a drag: what the chain would have needed without limits), degrees.
    applied_deg
        What the pose now has, degrees.
    lower_deg, upper_deg
        The range that applied (``±inf`` for an angle that has none of its own: see ``limited_by``).
    limited_by
        For an angle reached through other coordinates, those that stopped on a bound of their range.

    """

    name: str
    requested_deg: float
    applied_deg: float
    lower_deg: float
    upper_deg: float
    limited_by: tuple[str, ...] = ()

    def __str__(self) -> str:
        limits = f"range {self.lower_deg:g}° to {self.upper_deg:g}°"
        if self.limited_by:
            limits = f"limited by {', '.join(self.limited_by)}"
        return f"{self.name}: asked {self.requested_deg:.1f}°, set to {self.applied_deg:.1f}° ({limits})"


@dataclass(frozen=True, eq=False)
class Balance:
    """Static balance of one pose.

    Attributes
    ----------
    inside
        The COM's ground projection lies inside the base of support (False with no foot in contact).
    margin_m
        Signed distance from the COM's projection to the base of support's boundary, m: positive inside, negative
        outside; NaN with no foot in contact.
    feet_in_contact
        ``"left"`` and/or ``"right"``.
    com_m
        (3,) whole-body centre of mass, m.
    note
        How it was judged, and the single-support caveat when it applies.

    """

    inside: bool
    margin_m: float
    feet_in_contact: tuple[str, ...]
    com_m: NDArray[np.float64]
    note: str


@dataclass(frozen=True)
class FrameGroundReaction:
    """The ground reaction force of the session's pose.

    Attributes
    ----------
    vertical_n, horizontal_n
        Magnitudes of the vertical and horizontal components, N (NaN where unknown).
    left_vertical_n, right_vertical_n
        Vertical force under each foot, N.
    source
        ``"run"``: the run's ``metrics.csv`` for this frame (estimated from video with the COM's acceleration);
        ``"static"``: body weight shared by the lever rule (:mod:`~spacecomputer.biomech.solver._statics`).
    note
        The same in words.

    """

    vertical_n: float
    horizontal_n: float
    left_vertical_n: float
    right_vertical_n: float
    source: Literal["run", "static"]
    note: str


@dataclass(frozen=True)
class AngleChange:
    """One angle before and after, degrees."""

    name: str
    before_deg: float
    after_deg: float

    @property
    def change_deg(self) -> float:
        """``after − before``, degrees."""
        return self.after_deg - self.before_deg


@dataclass(frozen=True)
class MomentChange:
    """How one joint's quasi-static flexion moment changed (signs: the engine's, :data:`MOMENT_MEANINGS`).

    Attributes
    ----------
    joint
        ``{side}_{ankle|knee|hip|wrist|elbow|shoulder}``.
    before_n_m, after_n_m, change_n_m
        Flexion moment before, after, and ``after − before``, N·m.
    before_n_m_per_kg, after_n_m_per_kg
        The same per kg of body mass, N·m/kg.
    load
        ``"takes more load"``, ``"takes less load"`` (by magnitude) or ``"unchanged"``.
    direction
        The kind of moment after the change (``"extensor"``, ``"flexor"``, …), and before it if it flipped.

    """

    joint: str
    before_n_m: float
    after_n_m: float
    change_n_m: float
    before_n_m_per_kg: float
    after_n_m_per_kg: float
    load: str
    direction: str

    def __str__(self) -> str:
        return (
            f"{self.joint} {self.load}: {self.before_n_m:+.1f} → {self.after_n_m:+.1f} N·m "
            f"({self.change_n_m:+.1f}), {self.direction}"
        )


def _kind(joint: str, value: float) -> str:
    positive, negative = MOMENT_MEANINGS[joint]
    if not math.isfinite(value):
        return "unknown"
    return positive if value >= 0 else negative


def moment_change(joint: str, before_n_m: float, after_n_m: float, mass_kg: float) -> MomentChange:
    """Describe the change of one joint's moment: magnitude (load) and kind (direction)."""
    grow = abs(after_n_m) - abs(before_n_m)
    load = "unchanged"
    if grow > LOAD_TOLERANCE_N_M:
        load = "takes more load"
    elif grow < -LOAD_TOLERANCE_N_M:
        load = "takes less load"
    after, before = _kind(joint, after_n_m), _kind(joint, before_n_m)
    direction = f"{after} moment" if after == before else f"{after} moment (was {before})"
    return MomentChange(
        joint=joint,
        before_n_m=before_n_m,
        after_n_m=after_n_m,
        change_n_m=after_n_m - before_n_m,
        before_n_m_per_kg=before_n_m / mass_kg,
        after_n_m_per_kg=after_n_m / mass_kg,
        load=load,
        direction=direction,
    )


@dataclass(frozen=True, eq=False)
class ManipulationResult:
    """The outcome of :meth:`~spacecomputer.biomech.solver.PoseSession.manipulate`.

    Attributes
    ----------
    target
        The angle or joint name manipulated.
    kind
        ``"angle"`` (an angle set) or ``"joint"`` (a joint centre dragged).
    q
        (D,) the new coordinates (m, rad).
    pose
        Joint centre name → (3,) position, m, of the new pose.
    violations
        Limits that had to be enforced, with what was asked and what was applied.
    reached
        The target was met (angle: set as asked; joint: within :data:`REACH_TOLERANCE_M`).
    miss_distance_m
        For a drag, the distance from the joint to its target, m; ``None`` for an angle.
    angle_shortfall_deg
        For an angle, ``target − applied``, degrees; ``None`` for a drag.
    balance
        Static balance of the new pose.
    angle_changes
        The angles that changed (engine names and our own degrees of freedom), before and after.
    moment_changes
        Every joint's quasi-static moment before and after, largest change first.
    warnings
        Anything else worth knowing (a foot below the ground, a held foot that slipped, an angle undefined).
    elapsed_ms
        Wall time of the manipulation and its analysis, ms.

    """

    target: str
    kind: Literal["angle", "joint"]
    q: NDArray[np.float64]
    pose: Mapping[str, NDArray[np.float64]]
    violations: tuple[LimitViolation, ...]
    reached: bool
    miss_distance_m: float | None
    angle_shortfall_deg: float | None
    balance: Balance
    angle_changes: tuple[AngleChange, ...]
    moment_changes: tuple[MomentChange, ...]
    warnings: tuple[str, ...]
    elapsed_ms: float


@dataclass(frozen=True, eq=False)
class PoseComparison:
    """Two saved poses side by side: ``b`` relative to ``a``.

    Attributes
    ----------
    label_a, label_b
        The saved labels.
    angle_changes
        Angles that differ, ``a`` as before and ``b`` as after.
    moment_changes
        Every joint's moment, ``a`` → ``b``, largest change first.
    balance_a, balance_b
        Static balance of each.
    com_shift_m
        (3,) COM of ``b`` minus COM of ``a``, m.

    """

    label_a: str
    label_b: str
    angle_changes: tuple[AngleChange, ...]
    moment_changes: tuple[MomentChange, ...]
    balance_a: Balance
    balance_b: Balance
    com_shift_m: NDArray[np.float64]
