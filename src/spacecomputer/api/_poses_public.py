"""Answers of the pose-lab routes: the pose lab's results as JSON, every unit in the field's name.

JSON has no NaN or infinity: a value the pose lab leaves undefined (an angle of an ill-conditioned segment frame, the
balance margin with no foot on the ground, a limit that does not exist) is ``null``. Positions are ``[x, y, z]`` in
metres in the run's pose frame; angles in degrees; moments in N·m with the engine's signs (``MOMENT_MEANINGS``).
The optimiser's and simulator's answers are in :mod:`spacecomputer.api._poses_solve_public`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, Field

from spacecomputer.biomech.solver import (
    AngleChange,
    Balance,
    FrameGroundReaction,
    LimitViolation,
    ManipulationResult,
    MomentChange,
    PoseComparison,
)

__all__ = [
    "AngleChangePublic",
    "BalancePublic",
    "GroundReactionPublic",
    "HistoryPublic",
    "JointRange",
    "LimitViolationPublic",
    "LimitsSummary",
    "ManipulationPublic",
    "MomentChangePublic",
    "PoseComparisonPublic",
    "PoseSessionPublic",
    "SavedPosePublic",
    "SavedPoses",
    "angle_changes_of",
    "finite",
    "moment_changes_of",
    "positions",
    "vector",
]


def finite(value: float) -> float | None:
    """Return ``value`` as a float, or ``None`` where it is NaN or infinite (JSON cannot carry those)."""
    number = float(value)
    return number if math.isfinite(number) else None


def vector(values: ArrayLike) -> list[float | None]:
    """Return the values of ``values`` as a flat list, ``None`` where not finite."""
    return [finite(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def positions(points: Mapping[str, ArrayLike]) -> dict[str, list[float | None]]:
    """Return joint centre name → ``[x, y, z]``, m."""
    return {name: vector(point) for name, point in points.items()}


class BalancePublic(BaseModel):
    """Static balance: the COM's ground projection against the base of support of the feet in contact."""

    inside: bool
    margin_m: float | None = Field(description="Signed distance to the boundary, m: > 0 inside; null: no foot down.")
    feet_in_contact: list[str]
    com_m: list[float | None]
    note: str

    @classmethod
    def of(cls, balance: Balance) -> BalancePublic:
        """Return the JSON view of ``balance``."""
        return cls(
            inside=balance.inside,
            margin_m=finite(balance.margin_m),
            feet_in_contact=list(balance.feet_in_contact),
            com_m=vector(balance.com_m),
            note=balance.note,
        )


class GroundReactionPublic(BaseModel):
    """The pose's ground reaction: the run's estimate for the frame's own pose, else the static estimate."""

    vertical_n: float | None
    horizontal_n: float | None
    left_vertical_n: float | None
    right_vertical_n: float | None
    source: Literal["run", "static"]
    note: str

    @classmethod
    def of(cls, grf: FrameGroundReaction) -> GroundReactionPublic:
        """Return the JSON view of ``grf``."""
        return cls(
            vertical_n=finite(grf.vertical_n),
            horizontal_n=finite(grf.horizontal_n),
            left_vertical_n=finite(grf.left_vertical_n),
            right_vertical_n=finite(grf.right_vertical_n),
            source=grf.source,
            note=grf.note,
        )


class AngleChangePublic(BaseModel):
    """One angle before and after, degrees."""

    name: str
    before_deg: float | None
    after_deg: float | None
    change_deg: float | None

    @classmethod
    def of(cls, change: AngleChange) -> AngleChangePublic:
        """Return the JSON view of ``change``."""
        return cls(
            name=change.name,
            before_deg=finite(change.before_deg),
            after_deg=finite(change.after_deg),
            change_deg=finite(change.change_deg),
        )


class MomentChangePublic(BaseModel):
    """How one joint's quasi-static flexion moment moved: which joint takes more load, by how much, which way."""

    joint: str
    before_n_m: float | None
    after_n_m: float | None
    change_n_m: float | None
    before_n_m_per_kg: float | None
    after_n_m_per_kg: float | None
    load: str
    direction: str

    @classmethod
    def of(cls, change: MomentChange) -> MomentChangePublic:
        """Return the JSON view of ``change``."""
        return cls(
            joint=change.joint,
            before_n_m=finite(change.before_n_m),
            after_n_m=finite(change.after_n_m),
            change_n_m=finite(change.change_n_m),
            before_n_m_per_kg=finite(change.before_n_m_per_kg),
            after_n_m_per_kg=finite(change.after_n_m_per_kg),
            load=change.load,
            direction=change.direction,
        )


def angle_changes_of(changes: Iterable[AngleChange]) -> list[AngleChangePublic]:
    """Return the JSON views of angle changes."""
    return [AngleChangePublic.of(c) for c in changes]


def moment_changes_of(changes: Iterable[MomentChange]) -> list[MomentChangePublic]:
    """Return the JSON views of moment changes."""
    return [MomentChangePublic.of(c) for c in changes]


class LimitViolationPublic(BaseModel):
    """A value moved back inside its range of motion (what was asked, what was applied, the range)."""

    name: str
    requested_deg: float | None
    applied_deg: float | None
    lower_deg: float | None = Field(description="null where the angle has no range of its own (see limited_by).")
    upper_deg: float | None
    limited_by: list[str]

    @classmethod
    def of(cls, violation: LimitViolation) -> LimitViolationPublic:
        """Return the JSON view of ``violation``."""
        return cls(
            name=violation.name,
            requested_deg=finite(violation.requested_deg),
            applied_deg=finite(violation.applied_deg),
            lower_deg=finite(violation.lower_deg),
            upper_deg=finite(violation.upper_deg),
            limited_by=list(violation.limited_by),
        )


class JointRange(BaseModel):
    """The range of motion of one coordinate (degrees; metres for the pelvis position; null: free)."""

    lower: float | None
    upper: float | None
    source: Literal["model", "our own"]


class LimitsSummary(BaseModel):
    """The joint limits: their source, every coordinate's range, and the coordinates on a bound now."""

    source: dict[str, str]
    ranges: dict[str, JointRange]
    at_limit: list[str] = Field(description="Coordinates of the current pose within 0.01° of a bound (our own).")


class HistoryPublic(BaseModel):
    """Where the session stands in its undo history."""

    steps: int = Field(description="Poses in the history, the frame's own first.")
    cursor: int = Field(description="Index of the current pose in the history.")
    can_undo: bool
    can_redo: bool


class PoseSessionPublic(BaseModel):
    """A pose session: the current pose, its statics, and the session's history and saved poses."""

    id: uuid.UUID
    analysis_id: uuid.UUID
    frame: int
    angles_deg: dict[str, float | None] = Field(description="The engine's joint angles and our own coordinates.")
    joint_centres_m: dict[str, list[float | None]]
    balance: BalancePublic
    moments_n_m: dict[str, float | None] = Field(description="Quasi-static flexion moment of every joint.")
    ground_reaction: GroundReactionPublic
    limits: LimitsSummary
    body_mass_kg: float
    fit_residual_rms_m: float | None = Field(description="How far the skeleton sits from the frame's landmarks.")
    history: HistoryPublic
    saved: list[str]
    expires_in_s: int = Field(description="Seconds of inactivity after which the session is forgotten.")


class ManipulationPublic(BaseModel):
    """What one manipulation did: the violations resolved, whether the target was met, and what followed."""

    target: str
    kind: Literal["angle", "joint"]
    reached: bool
    miss_distance_m: float | None = Field(description="For a drag: the joint's distance to its target.")
    angle_shortfall_deg: float | None = Field(description="For an angle: target − applied.")
    violations: list[LimitViolationPublic]
    balance: BalancePublic
    angle_changes: list[AngleChangePublic]
    moment_changes: list[MomentChangePublic] = Field(description="Every joint, largest change first.")
    joint_centres_m: dict[str, list[float | None]]
    warnings: list[str]
    elapsed_ms: float
    history: HistoryPublic

    @classmethod
    def of(cls, result: ManipulationResult, history: HistoryPublic) -> ManipulationPublic:
        """Return the JSON view of ``result``."""
        return cls(
            target=result.target,
            kind=result.kind,
            reached=result.reached,
            miss_distance_m=None if result.miss_distance_m is None else finite(result.miss_distance_m),
            angle_shortfall_deg=None if result.angle_shortfall_deg is None else finite(result.angle_shortfall_deg),
            violations=[LimitViolationPublic.of(v) for v in result.violations],
            balance=BalancePublic.of(result.balance),
            angle_changes=angle_changes_of(result.angle_changes),
            moment_changes=moment_changes_of(result.moment_changes),
            joint_centres_m=positions(result.pose),
            warnings=list(result.warnings),
            elapsed_ms=result.elapsed_ms,
            history=history,
        )


class SavedPosePublic(BaseModel):
    """One saved pose."""

    label: str
    angles_deg: dict[str, float | None]
    joint_centres_m: dict[str, list[float | None]]
    balance: BalancePublic


class SavedPoses(BaseModel):
    """The session's saved poses, in the order they were first saved."""

    items: list[SavedPosePublic]


class PoseComparisonPublic(BaseModel):
    """Two saved poses side by side, ``b`` relative to ``a``."""

    label_a: str
    label_b: str
    angle_changes: list[AngleChangePublic]
    moment_changes: list[MomentChangePublic]
    balance_a: BalancePublic
    balance_b: BalancePublic
    com_shift_m: list[float | None]

    @classmethod
    def of(cls, comparison: PoseComparison) -> PoseComparisonPublic:
        """Return the JSON view of ``comparison``."""
        return cls(
            label_a=comparison.label_a,
            label_b=comparison.label_b,
            angle_changes=angle_changes_of(comparison.angle_changes),
            moment_changes=moment_changes_of(comparison.moment_changes),
            balance_a=BalancePublic.of(comparison.balance_a),
            balance_b=BalancePublic.of(comparison.balance_b),
            com_shift_m=vector(comparison.com_shift_m),
        )
